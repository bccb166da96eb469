using Bus.Tests.Support;

namespace Bus.Tests.Publishing;

public sealed class ScheduledPublishTests
{
    [Fact]
    public async Task A_scheduled_message_is_published_when_due_and_not_before()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        var dueAt = bus.Time.GetUtcNow() + TimeSpan.FromMinutes(10);

        var id = await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromMinutes(10));
        bus.Time.Advance(TimeSpan.FromMinutes(9));
        await bus.IdleAsync();
        bus.Recorder.All.Should().BeEmpty();

        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        var received = bus.Recorder.All.Should().ContainSingle().Subject;
        received.Envelope.MessageId.Should().Be(id);
        received.Envelope.Timestamp.Should().Be(dueAt);
        bus.Bus.GetScheduledMessages().Should().BeEmpty();
    }

    [Fact]
    public async Task Scheduled_messages_are_listed_earliest_first_and_can_be_cancelled()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        var now = bus.Time.GetUtcNow();
        var late = await bus.Publisher.ScheduleAsync(new OrderPlaced(2), now + TimeSpan.FromHours(2));
        var early = await bus.Publisher.ScheduleAsync(new OrderPlaced(1), now + TimeSpan.FromHours(1));

        var scheduled = bus.Bus.GetScheduledMessages();
        scheduled.Select(s => s.Id).Should().Equal(early, late);
        scheduled[0].DueAt.Should().Be(now + TimeSpan.FromHours(1));
        scheduled[0].Envelope.Message.Should().Be(new OrderPlaced(1));

        bus.Bus.CancelScheduled(early).Should().BeTrue();
        bus.Bus.CancelScheduled(early).Should().BeFalse();
        bus.Time.Advance(TimeSpan.FromHours(2));
        await bus.IdleAsync();

        bus.Recorder.Messages<OrderPlaced>().Should().Equal(new OrderPlaced(2));
    }

    [Fact]
    public async Task A_scheduled_message_is_routed_with_the_bindings_of_its_due_time()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Topic).AddQueue("audit"));
        await bus.Publisher.ScheduleAsync(new Job(1), TimeSpan.FromSeconds(5), new PublishOptions { Exchange = "events", RoutingKey = "job.done" });

        bus.Bus.Topology.Bind(new Binding("events", "audit", "job.*"));
        bus.Time.Advance(TimeSpan.FromSeconds(5));

        bus.Bus.GetStatistics().GetQueue("audit").Enqueued.Should().Be(1);
    }

    [Fact]
    public async Task Stop_publishes_what_comes_due_within_the_timeout_and_reports_the_rest()
    {
        var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>().Configure(o => o.StopTimeout = TimeSpan.FromSeconds(30)));
        await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromSeconds(10));
        await bus.Publisher.ScheduleAsync(new OrderPlaced(2), TimeSpan.FromHours(1));

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        await bus.Recorder.WhenCountAsync(1);
        bus.Time.Advance(TimeSpan.FromSeconds(20));
        var report = await stopping.WaitAsync(TestBus.Timeout);

        bus.Recorder.Messages<OrderPlaced>().Should().Equal(new OrderPlaced(1));
        var left = report.Unprocessed.Should().ContainSingle().Subject;
        (left.Queue, left.Envelope.Message).Should().Be(("(scheduled)", (object)new OrderPlaced(2)));
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.BusStopped);
        await bus.DisposeAsync();
    }

    [Fact]
    public async Task The_schedule_is_bounded()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>().Configure(o => o.ScheduledCapacity = 2));
        await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromHours(1));
        await bus.Publisher.ScheduleAsync(new OrderPlaced(2), TimeSpan.FromHours(1));

        var third = async () => await bus.Publisher.ScheduleAsync(new OrderPlaced(3), TimeSpan.FromHours(1));

        (await third.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("ScheduledCapacity");
    }

    [Fact]
    public async Task Scheduling_on_a_stopped_bus_is_refused()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        await bus.Bus.StopAsync();

        var schedule = async () => await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromMinutes(1));

        await schedule.Should().ThrowAsync<BusNotRunningException>();
    }
}
