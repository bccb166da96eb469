using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 11 (time to live): README says an expired message is never delivered; a time to live kept in whole
/// milliseconds rounded up delivered a 2.5 ms message up to 2.9 ms after its timestamp.
/// </summary>
public sealed class TimeToLiveResolutionRegressionTests
{
    private const string Queue = "ttl";

    [Fact]
    public async Task A_message_with_a_time_to_live_of_2_5_ms_is_expired_not_delivered_2_6_ms_after_its_timestamp()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue(Queue));
        await bus.Publisher.SendAsync(Queue, new Job(1), new PublishOptions { TimeToLive = TimeSpan.FromMicroseconds(2_500) });

        bus.Time.Advance(TimeSpan.FromMicroseconds(2_600));
        bus.Bus.Topology.AddConsumer<RecordingConsumer<Job>>(Queue);
        await bus.IdleAsync();

        bus.Recorder.All.Should().BeEmpty("the message was 2.6 ms old when its turn came, past its 2.5 ms time to live");
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.Expired);
    }

    [Fact]
    public async Task A_queue_time_to_live_of_2_5_ms_expires_a_message_2_6_ms_after_its_timestamp()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue(Queue, q => q.TimeToLive = TimeSpan.FromMicroseconds(2_500)));
        await bus.Publisher.SendAsync(Queue, new Job(1));

        bus.Time.Advance(TimeSpan.FromMicroseconds(2_600));
        bus.Bus.Topology.AddConsumer<RecordingConsumer<Job>>(Queue);
        await bus.IdleAsync();

        bus.Recorder.All.Should().BeEmpty("the message was 2.6 ms old when its turn came, past the queue's 2.5 ms time to live");
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.Expired);
    }

    [Fact]
    public async Task A_message_with_a_time_to_live_of_2_5_ms_is_delivered_2_4_ms_after_its_timestamp()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue(Queue));
        await bus.Publisher.SendAsync(Queue, new Job(1), new PublishOptions { TimeToLive = TimeSpan.FromMicroseconds(2_500) });

        bus.Time.Advance(TimeSpan.FromMicroseconds(2_400));
        bus.Bus.Topology.AddConsumer<RecordingConsumer<Job>>(Queue);
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().Equal(new Job(1));
    }
}
