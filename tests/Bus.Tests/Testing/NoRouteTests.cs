using System.Collections.Concurrent;
using Bus.Testing;
using Bus.Tests.Support;

namespace Bus.Tests.Testing;

/// <summary>A publish no queue is bound for is recorded, so an assertion that nothing was published cannot pass vacuously.</summary>
public sealed class NoRouteTests
{
    [Fact]
    public async Task A_publish_no_queue_is_bound_for_is_recorded_as_NoRoute_with_its_envelope()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(), s => s.AddSingleton<Recorder>());

        await harness.PublishAndWaitAsync(new PaymentCompleted(7));

        var recorded = harness.Events.Should().ContainSingle().Which;
        recorded.Kind.Should().Be(BusEventKind.NoRoute);
        recorded.Message.Should().Be(new PaymentCompleted(7));
        recorded.Envelope.Exchange.Should().Be(typeof(PaymentCompleted).FullName);
    }

    [Fact]
    public async Task Published_includes_messages_that_reached_no_queue()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(), s => s.AddSingleton<Recorder>());

        await harness.PublishAndWaitAsync(new PaymentCompleted(7));

        harness.Published<PaymentCompleted>().Should().Equal(new PaymentCompleted(7));
    }

    [Fact]
    public async Task NotRouted_lists_only_the_messages_that_reached_no_queue()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(), s => s.AddSingleton<Recorder>());

        await harness.PublishAndWaitAsync(new Job(1));
        await harness.PublishAndWaitAsync(new PaymentCompleted(7));

        harness.NotRouted<Job>().Should().BeEmpty();
        harness.NotRouted<PaymentCompleted>().Should().Equal(new PaymentCompleted(7));
        harness.Published<Job>().Should().Equal(new Job(1));
    }

    [Fact]
    public async Task A_mandatory_publish_that_is_refused_is_recorded_too()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(), s => s.AddSingleton<Recorder>());

        var publish = async () => await harness.Publisher.PublishAsync(new PaymentCompleted(7), new PublishOptions { Mandatory = true });

        await publish.Should().ThrowAsync<UnroutableMessageException>();
        harness.NotRouted<PaymentCompleted>().Should().ContainSingle();
    }

    [Fact]
    public async Task A_scheduled_message_that_finds_no_queue_when_due_is_recorded_as_NoRoute()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(), s => s.AddSingleton<Recorder>());

        await harness.Publisher.ScheduleAsync(new PaymentCompleted(7), TimeSpan.FromMinutes(1));
        await harness.AdvanceAsync(TimeSpan.FromMinutes(1));

        harness.NotRouted<PaymentCompleted>().Should().Equal(new PaymentCompleted(7));
    }

    [Fact]
    public async Task An_observer_sees_unroutable_publishes_through_both_publish_paths()
    {
        var observer = new UnroutableObserver();
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>().AddPublishFilter<PassThroughFilter>(),
            s => s.AddSingleton<IBusObserver>(observer));
        await using var direct = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<IBusObserver>(observer));

        await bus.Publisher.PublishAsync(new Ping(1), "filtered");
        await direct.Publisher.PublishAsync(new Ping(2), "direct");

        observer.Seen.Should().BeEquivalentTo([$"{typeof(Ping).FullName} filtered Ping {{ Hop = 1 }}", $"{typeof(Ping).FullName} direct Ping {{ Hop = 2 }}"]);
    }

    public sealed class UnroutableObserver : IBusObserver
    {
        private readonly ConcurrentQueue<string> _seen = new();

        public IReadOnlyList<string> Seen => [.. _seen];

        public void OnUnroutable(in Envelope envelope) => _seen.Enqueue($"{envelope.Exchange} {envelope.RoutingKey} {envelope.Message}");
    }

    public sealed class PassThroughFilter : IPublishFilter
    {
        public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next) => next(context);
    }
}
