using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 5: a message the bus keeps after an internal error (here, one failed write to the dead-letter
/// store) is held for the stop report, and counts as settled for idle: waiting for idle and draining must not hang on it.
/// </summary>
public sealed class DeadLetterStoreFailureRegressionTests
{
    private const string Queue = "jobs";

    [Fact]
    public async Task After_one_dead_letter_store_failure_WaitForIdleAsync_still_completes()
    {
        await using var bus = await StartWithOneStoreFailureAsync();

        var waiting = async () => await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");

        await waiting.Should().NotThrowAsync("nothing is left to do now: the message is held for the stop report");
    }

    [Fact]
    public async Task After_one_dead_letter_store_failure_a_stop_ends_without_its_timeout_and_reports_the_message()
    {
        await using var bus = await StartWithOneStoreFailureAsync();

        // The stop timeout is 30 s on the fake clock, which does not move.
        var report = await bus.Bus.StopAsync().WithinGuardAsync("The stop");

        report.Unprocessed.Should().ContainSingle("the message whose dead-lettering failed is neither consumed nor stored: the stop reports it")
            .Which.Envelope.Message.Should().Be(new Job(1));
    }

    [Fact]
    public async Task After_one_dead_letter_store_failure_later_messages_are_dead_lettered_and_the_bus_goes_idle()
    {
        await using var bus = await StartWithOneStoreFailureAsync();

        await bus.Publisher.SendAsync(Queue, new Job(2));
        await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");

        (await bus.Get<IDeadLetterStore>().QueryAsync()).Select(d => d.JobId()).Should().Contain(2);
    }

    /// <summary>A bus whose consumer always fails, after the store refused to dead-letter job 1 once.</summary>
    private static async Task<TestBus> StartWithOneStoreFailureAsync()
    {
        var bus = await TestBus.StartAsync(
            b => b.AddQueue(Queue).AddConsumer<FailingConsumer>(c => c.Queue = Queue),
            s => s.AddFlakyDeadLetterStore());
        var store = bus.Get<FlakyDeadLetterStore>();
        store.FailNext(1);
        await bus.Publisher.SendAsync(Queue, new Job(1));
        await store.FirstFailure.WaitAsync(TestBus.Timeout);
        return bus;
    }

    public sealed class FailingConsumer : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"job {context.Message.Id} always fails");
    }
}
