using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 8: when a queue in a drop mode drops a message and the dead-letter store refuses it, the failure
/// is observed and logged, and the message is not counted as if it had been dead-lettered.
/// </summary>
public sealed class DropWithFailingStoreRegressionTests
{
    private const string Queue = "drops";

    [Theory]
    [InlineData(QueueFullMode.DropOldest)]
    [InlineData(QueueFullMode.DropNewest)]
    public async Task A_drop_whose_dead_letter_write_fails_logs_the_failure(QueueFullMode mode)
    {
        await using var bus = await DropOneWithFailingStoreAsync(mode);

        bus.Logs.Entries.Should().Contain(
            e => e.Level >= LogLevel.Warning
                && (e.Exception is IOException || e.Message.Contains(FlakyDeadLetterStore.FailureMessage, StringComparison.Ordinal)),
            "the store refused the dropped message, and that must not pass unseen");
    }

    [Theory]
    [InlineData(QueueFullMode.DropOldest)]
    [InlineData(QueueFullMode.DropNewest)]
    public async Task A_drop_whose_dead_letter_write_fails_is_not_counted_as_dead_lettered(QueueFullMode mode)
    {
        await using var bus = await DropOneWithFailingStoreAsync(mode);

        bus.Get<IDeadLetterStore>().Count.Should().Be(0);
        bus.Bus.GetStatistics().GetQueue(Queue).DeadLettered.Should().Be(0, "the dropped message never reached the dead-letter store");
    }

    /// <summary>
    /// Job 1 held by the consumer, job 2 queued, job 3 makes the queue (capacity 1) drop one of them, and the store
    /// refuses that drop; then the consumer is let go and the bus goes idle.
    /// </summary>
    private static async Task<TestBus> DropOneWithFailingStoreAsync(QueueFullMode mode)
    {
        var bus = await TestBus.StartAsync(
            b => b
                .AddQueue(Queue, q => { q.Capacity = 1; q.FullMode = mode; })
                .AddConsumer<GatedConsumer<Job>>(c => c.Queue = Queue),
            s => s.AddSingleton<Gate>().AddFlakyDeadLetterStore());
        var store = bus.Get<FlakyDeadLetterStore>();
        await bus.Publisher.SendAsync(Queue, new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        store.FailNext(1);
        await bus.Publisher.SendAsync(Queue, new Job(2));
        await bus.Publisher.SendAsync(Queue, new Job(3));
        await store.FirstFailure.WaitAsync(TestBus.Timeout);

        bus.Get<Gate>().Open();
        await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");
        bus.Recorder.Messages<Job>().Should().HaveCount(2, "one of jobs 2 and 3 was dropped");
        return bus;
    }
}
