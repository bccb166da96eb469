using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 2: scheduling a second message with the id of one already scheduled is refused, and the refusal
/// leaves nothing behind: one entry in the schedule, one publish when due, and stops that drain as before.
/// </summary>
public sealed class DuplicateScheduleRegressionTests
{
    private static readonly Guid SharedId = Guid.Parse("0195a3c4-0000-7000-8000-000000000013");

    [Fact]
    public async Task A_second_schedule_with_the_same_message_id_is_refused_and_only_the_first_stays_scheduled()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        var dueAt = bus.Time.GetUtcNow() + TimeSpan.FromMinutes(1);
        await bus.Publisher.ScheduleAsync(new OrderPlaced(1), dueAt, new PublishOptions { MessageId = SharedId });

        var second = async () => await bus.Publisher.ScheduleAsync(new OrderPlaced(2), dueAt, new PublishOptions { MessageId = SharedId });

        await second.Should().ThrowAsync<Exception>("a message with that id is already scheduled");
        bus.Bus.GetScheduledMessages().Should().ContainSingle("the refused schedule must leave no entry behind")
            .Which.Envelope.Message.Should().Be(new OrderPlaced(1));
    }

    [Fact]
    public async Task Only_the_first_of_two_messages_scheduled_with_the_same_id_is_published_when_due()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        await ScheduleTwiceWithOneIdAsync(bus);

        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<OrderPlaced>().Should().Equal([new OrderPlaced(1)], "the second schedule was refused");
        bus.Bus.GetScheduledMessages().Should().BeEmpty();
    }

    [Fact]
    public async Task A_stop_after_a_refused_duplicate_schedule_drains_without_waiting_for_its_timeout()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        await ScheduleTwiceWithOneIdAsync(bus);
        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        // The fake clock does not move: a stop with nothing left to do ends at once, not after its 30 s timeout.
        var report = await bus.Bus.StopAsync().WithinGuardAsync("The stop");

        report.Drained.Should().BeTrue();
        report.Unprocessed.Should().BeEmpty();
    }

    private static async Task ScheduleTwiceWithOneIdAsync(TestBus bus)
    {
        var dueAt = bus.Time.GetUtcNow() + TimeSpan.FromMinutes(1);
        await bus.Publisher.ScheduleAsync(new OrderPlaced(1), dueAt, new PublishOptions { MessageId = SharedId });
        var second = async () => await bus.Publisher.ScheduleAsync(new OrderPlaced(2), dueAt, new PublishOptions { MessageId = SharedId });
        await second.Should().ThrowAsync<Exception>("a message with that id is already scheduled");
    }
}
