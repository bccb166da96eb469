using Bus.Tests.Support;

namespace Bus.Tests.Filters;

public sealed class ScheduledPublishFilterTests
{
    [Fact]
    public async Task A_scheduled_publish_goes_through_the_publish_filters_when_it_is_scheduled()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddPublishFilter<TenantStampingPublishFilter>().AddConsumer<RecordingConsumer<OrderPlaced>>(),
            s => s.AddSingleton<Trail>());

        var id = await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromMinutes(10));
        bus.Bus.GetScheduledMessages().Should().ContainSingle().Which.Envelope.Headers.Should().Contain("tenant", "acme");
        bus.Time.Advance(TimeSpan.FromMinutes(10));
        await bus.IdleAsync();

        var received = bus.Recorder.All.Should().ContainSingle().Subject;
        received.Envelope.MessageId.Should().Be(id);
        received.Envelope.Headers.Should().Contain("tenant", "acme");
    }

    [Fact]
    public async Task A_publish_filter_that_does_not_call_next_drops_a_scheduled_publish_before_it_is_scheduled()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddPublishFilter<DroppingPublishFilter>().AddConsumer<RecordingConsumer<OrderPlaced>>(),
            s => s.AddSingleton<Trail>());

        var id = await bus.Publisher.ScheduleAsync(new OrderPlaced(1), TimeSpan.FromMinutes(10));

        id.Should().Be(Guid.Empty);
        bus.Bus.GetScheduledMessages().Should().BeEmpty();
        bus.Get<Trail>().Steps.Should().Equal("dropped OrderPlaced");
    }
}
