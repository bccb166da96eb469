using System.Diagnostics;
using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 4: scheduled messages do not count for <see cref="IMessageBus.WaitForIdleAsync"/>, so scheduling
/// and cancelling while someone waits must never leave that waiter asleep.
/// </summary>
public sealed class IdleWithScheduleRegressionTests
{
    [Fact]
    public async Task A_waiter_started_while_only_a_scheduled_publish_waits_completes()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromHours(1));

        await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");

        bus.Bus.GetScheduledMessages().Should().ContainSingle();
    }

    [Fact]
    public async Task A_waiter_completes_after_a_schedule_and_a_cancel_made_while_it_waits()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<GatedConsumer<OrderPlaced>>(), s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        var waiting = bus.Bus.WaitForIdleAsync();
        waiting.IsCompleted.Should().BeFalse("a consumer is busy");

        var id = await bus.Publisher.ScheduleAsync(new OrderPlaced(2), TimeSpan.FromHours(1));
        bus.Bus.CancelScheduled(id).Should().BeTrue();
        bus.Get<Gate>().Open();

        await waiting.WithinGuardAsync("WaitForIdleAsync");
        bus.Recorder.Messages<OrderPlaced>().Should().Equal(new OrderPlaced(1));
    }

    [Fact]
    public async Task Waiters_racing_schedules_and_cancellations_all_complete()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        using var stop = new CancellationTokenSource();
        var scheduling = Task.Run(async () =>
        {
            var n = 0;
            while (!stop.IsCancellationRequested)
            {
                var id = await bus.Publisher.ScheduleAsync(new OrderPlaced(n++), TimeSpan.FromHours(1));
                bus.Bus.CancelScheduled(id);
            }

            return n;
        });

        // The bus has nothing to do now throughout: every waiter must complete, however the schedules interleave.
        var pending = new List<Task>();
        var waiters = 0;
        var elapsed = Stopwatch.StartNew();
        while (waiters < 50_000 && elapsed.Elapsed < TimeSpan.FromSeconds(2))
        {
            var waiter = bus.Bus.WaitForIdleAsync();
            waiters++;
            if (!waiter.IsCompleted)
            {
                pending.Add(waiter);
            }
        }

        await stop.CancelAsync();
        var scheduled = await scheduling.WaitAsync(TestBus.Timeout);
        var completed = await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(5)).ContinueWith(t => t.IsCompletedSuccessfully, TaskScheduler.Default);

        completed.Should().BeTrue(
            "every waiter must complete, yet {0} of {1} waiters were still waiting 5 s after {2} schedule-and-cancel pairs ended",
            pending.Count(t => !t.IsCompleted),
            waiters,
            scheduled);
    }
}
