using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>What a broker transport gets from the bus at the start: the topology to declare, the codec, and the requests waiting for replies.</summary>
internal sealed class BrokerContext(
    IReadOnlyList<(string Name, IRoutingStrategy Strategy)> exchanges,
    IReadOnlyList<(string Name, QueueOptions Options)> queues,
    IReadOnlyList<Binding> bindings,
    EnvelopeCodec codec,
    PendingRequests requests,
    TimeProvider time,
    ILogger logger,
    int deadLetterCapacity)
{
    /// <summary>Every exchange with its routing strategy; a strategy the broker does not have is refused by name.</summary>
    public IReadOnlyList<(string Name, IRoutingStrategy Strategy)> Exchanges => exchanges;

    public IReadOnlyList<(string Name, QueueOptions Options)> Queues => queues;

    public IReadOnlyList<Binding> Bindings => bindings;

    public EnvelopeCodec Codec => codec;

    /// <summary>The requests of this process that wait for a reply through the broker.</summary>
    public PendingRequests Requests => requests;

    public TimeProvider Time => time;

    public ILogger Logger => logger;

    /// <summary>The most dead letters kept per queue (<see cref="BusOptions.DeadLetterCapacity"/>).</summary>
    public int DeadLetterCapacity => deadLetterCapacity;
}
