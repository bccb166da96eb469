using System.Collections.Concurrent;
using Bus.Tests.Support;

namespace Bus.Tests.Hosting;

public sealed class ObserverTests
{
    [Fact]
    public async Task Observers_see_publishes_consumption_failures_retries_and_dead_letters()
    {
        var observer = new ListObserver();
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<FailingJobs>(c => c.RetryPolicy = RetryPolicy.Immediate(1)).AddConsumer<RecordingConsumer<OrderPlaced>>(),
            s => s.AddSingleton<IBusObserver>(observer));

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        // A consumer may start before its publisher has returned, so a publish is seen at some point, not first.
        observer.Seen.Should().Contain(["published OrderPlaced", "published Job"]);
        var delivery = observer.Seen.Where(e => !e.StartsWith("published", StringComparison.Ordinal)).ToList();
        delivery.Where(e => e.Contains(nameof(OrderPlaced))).Should().Equal("consumed OrderPlaced");
        delivery.Where(e => e.Contains(nameof(Job))).Should().Equal(
            "faulted Job 1",
            "retrying Job 2",
            "faulted Job 2",
            "dead-lettered Job MaxRetriesExceeded");
    }

    [Fact]
    public async Task An_observer_that_throws_is_logged_and_the_bus_carries_on()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<IBusObserver, ThrowingObserver>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().ContainSingle();
        bus.Logs.Entries.Should().Contain(e => e.EventId == 31 && e.Message.Contains(nameof(ThrowingObserver)) && e.Message.Contains("OnConsumed"));
    }

    public sealed class FailingJobs : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no");
    }

    /// <summary>Records what it sees; the two messages go through separate queues, so each one's events are in order.</summary>
    public sealed class ListObserver : IBusObserver
    {
        private readonly ConcurrentQueue<string> _seen = new();

        public IReadOnlyList<string> Seen => [.. _seen];

        public void OnPublished(in Envelope envelope) => _seen.Enqueue($"published {envelope.MessageType.Name}");

        public void OnConsumed(in Envelope envelope, string queue, Type consumerType) => _seen.Enqueue($"consumed {envelope.MessageType.Name}");

        public void OnFaulted(in Envelope envelope, string queue, Exception exception) => _seen.Enqueue($"faulted {envelope.MessageType.Name} {envelope.DeliveryCount}");

        public void OnRetrying(in Envelope envelope, string queue, TimeSpan delay) => _seen.Enqueue($"retrying {envelope.MessageType.Name} {envelope.DeliveryCount}");

        public void OnDeadLettered(DeadLetter deadLetter) => _seen.Enqueue($"dead-lettered {deadLetter.Envelope.MessageType.Name} {deadLetter.Reason}");
    }

    public sealed class ThrowingObserver : IBusObserver
    {
        public void OnConsumed(in Envelope envelope, string queue, Type consumerType) => throw new InvalidOperationException("observer bug");
    }
}
