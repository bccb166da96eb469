using System.Diagnostics;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>What an observer saw of one message: its envelope, the queue, the exception or delay, and when.</summary>
public sealed record Observed(Envelope Envelope, string? Queue, Exception? Exception = null, TimeSpan? Delay = null)
{
    public long Timestamp { get; } = Stopwatch.GetTimestamp();

    public object Message => Envelope.Message;

    public int DeliveryCount => Envelope.DeliveryCount;
}

/// <summary>
/// An <see cref="IBusObserver"/> registered in each test bus's container: everything that happened to messages, as lists
/// the test waits on.
/// </summary>
public sealed class Probe : IBusObserver
{
    public Events<Observed> Published { get; } = new();

    public Events<Observed> Unroutable { get; } = new();

    public Events<Observed> Consumed { get; } = new();

    public Events<Observed> Faulted { get; } = new();

    public Events<Observed> Retrying { get; } = new();

    public Events<DeadLetter> DeadLettered { get; } = new();

    void IBusObserver.OnPublished(in Envelope envelope) => Published.Add(new Observed(envelope, null));

    void IBusObserver.OnUnroutable(in Envelope envelope) => Unroutable.Add(new Observed(envelope, null));

    void IBusObserver.OnConsumed(in Envelope envelope, string queue, Type consumerType) => Consumed.Add(new Observed(envelope, queue));

    void IBusObserver.OnFaulted(in Envelope envelope, string queue, Exception exception) => Faulted.Add(new Observed(envelope, queue, exception));

    void IBusObserver.OnRetrying(in Envelope envelope, string queue, TimeSpan delay) => Retrying.Add(new Observed(envelope, queue, Delay: delay));

    void IBusObserver.OnDeadLettered(DeadLetter deadLetter) => DeadLettered.Add(deadLetter);
}
