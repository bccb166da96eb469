using Bus.Testing;
using WorkQueue;

namespace Bus.Tests.Samples;

public sealed class WorkQueueSampleTests
{
    [Fact]
    public async Task Every_task_is_done_exactly_once()
    {
        await using var harness = await StartAsync();

        var outcome = await WorkQueueApp.RunAsync(harness.Services);

        outcome.Shares.SelectMany(s => s.Images).Should().BeEquivalentTo(Enumerable.Range(1, WorkQueueApp.Tasks));
        outcome.RenderedTwice.Should().BeEmpty();
        harness.Consumed<RenderThumbnail>().Should().HaveCount(WorkQueueApp.Tasks);
    }

    [Fact]
    public async Task The_per_worker_tally_adds_up_to_the_tasks_sent()
    {
        await using var harness = await StartAsync();

        var outcome = await WorkQueueApp.RunAsync(harness.Services);

        outcome.Shares.Sum(s => s.Images.Count).Should().Be(WorkQueueApp.Tasks);
        harness.Sent<RenderThumbnail>().Should().HaveCount(WorkQueueApp.Tasks);
    }

    [Fact]
    public async Task No_more_workers_than_the_queue_concurrency_take_tasks_or_run_at_once()
    {
        await using var harness = await StartAsync();

        var outcome = await WorkQueueApp.RunAsync(harness.Services);

        outcome.Shares.Should().HaveCountLessThanOrEqualTo(WorkQueueApp.Workers);
        outcome.MaxBusy.Should().BeInRange(1, WorkQueueApp.Workers);
    }

    [Fact]
    public async Task The_work_queue_sample_ends_as_expected()
    {
        await using var harness = await StartAsync();

        var outcome = await WorkQueueApp.RunAsync(harness.Services);

        outcome.IsAsExpected.Should().BeTrue();
    }

    private static Task<BusTestHarness> StartAsync() =>
        BusTestHarness.StartAsync(WorkQueueApp.Configure, services => WorkQueueApp.AddServices(services, TextWriter.Null, TimeSpan.Zero));
}
