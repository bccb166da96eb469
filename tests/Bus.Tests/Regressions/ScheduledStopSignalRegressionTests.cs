using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 3: a stop that waits for a scheduled message must wake when that message ends without reaching a
/// queue (cancelled, or unroutable when it comes due), not sleep until its own timeout.
/// </summary>
public sealed class ScheduledStopSignalRegressionTests
{
    private const string Exchange = "events";
    private const string Queue = "audit";

    /// <summary>Much longer than the schedules below, so that only the end of the scheduled message can end the stop.</summary>
    private static readonly TimeSpan StopTimeout = TimeSpan.FromMinutes(10);

    [Fact]
    public async Task A_stop_waiting_for_a_scheduled_message_ends_drained_once_the_message_is_cancelled()
    {
        await using var bus = await StartAsync();
        var id = await bus.Publisher.ScheduleAsync(new Job(1), TimeSpan.FromMinutes(1), new PublishOptions { Exchange = Exchange, RoutingKey = "job" });
        var stopping = bus.Bus.StopAsync();
        stopping.IsCompleted.Should().BeFalse("the stop waits for the scheduled message, due within its timeout");

        bus.Bus.CancelScheduled(id).Should().BeTrue();

        // The fake clock does not move: nothing is left, so the stop must end now.
        var report = await stopping.WithinGuardAsync("The stop");
        report.Drained.Should().BeTrue();
        report.Unprocessed.Should().BeEmpty();
    }

    [Fact]
    public async Task A_stop_waiting_for_a_scheduled_message_ends_drained_when_it_comes_due_with_no_queue_bound()
    {
        await using var bus = await StartAsync();
        await bus.Publisher.ScheduleAsync(new Job(1), TimeSpan.FromMinutes(1), new PublishOptions { Exchange = Exchange, RoutingKey = "job" });
        bus.Bus.Topology.Unbind(new Binding(Exchange, Queue, "job")).Should().BeTrue();
        var stopping = bus.Bus.StopAsync();
        stopping.IsCompleted.Should().BeFalse("the stop waits for the scheduled message, due within its timeout");

        // Due now, well within the stop timeout: it is routed, finds no queue, and is counted unroutable.
        bus.Time.Advance(TimeSpan.FromMinutes(1));

        var report = await stopping.WithinGuardAsync("The stop");
        report.Drained.Should().BeTrue();
        report.Unprocessed.Should().BeEmpty();
        bus.Recorder.All.Should().BeEmpty();
        bus.Bus.GetStatistics().Unroutable.Should().Be(1);
    }

    private static Task<TestBus> StartAsync() =>
        TestBus.StartAsync(b => b
            .Configure(o => o.StopTimeout = StopTimeout)
            .AddExchange(Exchange, ExchangeType.Direct)
            .AddQueue(Queue)
            .Bind(Exchange, Queue, "job")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = Queue));
}
