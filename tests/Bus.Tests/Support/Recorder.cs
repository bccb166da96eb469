using System.Collections.Concurrent;

namespace Bus.Tests.Support;

/// <summary>What consumers saw: the message, its envelope and queue, in the order consumers finished.</summary>
public sealed class Recorder
{
    private readonly ConcurrentQueue<Received> _received = new();

    public IReadOnlyList<Received> All => [.. _received];

    public void Record<T>(ConsumeContext<T> context, string consumer) =>
        _received.Enqueue(new Received(consumer, context.Queue, context.Message!, context.Envelope));

    public IReadOnlyList<T> Messages<T>() => [.. _received.Select(r => r.Message).OfType<T>()];

    public IReadOnlyList<T> Messages<T>(string consumer) =>
        [.. _received.Where(r => r.Consumer == consumer).Select(r => r.Message).OfType<T>()];

    public IReadOnlyList<Received> In(string queue) => [.. _received.Where(r => r.Queue == queue)];
}

public sealed record Received(string Consumer, string Queue, object Message, Envelope Envelope);
