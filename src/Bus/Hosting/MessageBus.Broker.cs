using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// Publishing over a broker that routes (<see cref="TransportFeatures.OwnsRouting"/>): the envelope is stamped as in
/// process, then handed to the broker, and the publish completes on the broker's confirm. Routing, the unroutable
/// check and a request's reply address are the broker's.
/// </summary>
internal sealed partial class MessageBus
{
    /// <summary>The broker that routes, or null when the bus routes in process.</summary>
    internal IBrokerTransport? Broker => _broker;

    /// <summary>
    /// Whether topology changes go to the broker: from the moment the start takes its snapshot of the topology (the
    /// transport holds those made before it is connected, and declares them after the snapshot).
    /// </summary>
    internal bool BrokerTopologyLive => _brokerTopologyLive;

    private volatile bool _brokerTopologyLive;
    private volatile EnvelopeCodec? _codec;

    /// <summary>Makes a message type known to the broker's codec, for a consumer added once the start has built it.</summary>
    internal void KnowMessageType(Type messageType) => _codec?.Know([messageType]);

    /// <summary>Connects to the broker and declares the topology as it stands, before the readers start.</summary>
    private Task StartBrokerAsync(CancellationToken cancellationToken)
    {
        _brokerTopologyLive = true;
        var exchanges = new List<(string, IRoutingStrategy)>();
        var bindings = new List<Binding>();
        foreach (var exchange in _topology.ExchangeObjects)
        {
            exchanges.Add((exchange.Name, exchange.Strategy));
            bindings.AddRange(exchange.GetBindings());
        }

        var serializer = _options.Serializer ?? DefaultSerializer.Create() ?? throw new InvalidOperationException(
            "BusOptions.Serializer is not set, and this application turned reflection-based JSON off (trimmed or native AOT): set it to new SystemTextJsonMessageSerializer(new JsonSerializerOptions { TypeInfoResolver = YourJsonContext.Default }).");

        // Published before the queues are read: a consumer added from now on makes its types known itself.
        var codec = new EnvelopeCodec(serializer, new MessageTypeNames(_options.MessageTypes), _options.MaxMessageSize);
        _codec = codec;
        var queues = new List<(string, QueueOptions)>();
        foreach (var queue in _topology.QueueList)
        {
            queues.Add((queue.Name, queue.Options));
            codec.Know(queue.MessageTypes);
        }

        return _broker!.StartAsync(new BrokerContext(exchanges, queues, bindings, codec, Requests, _time, Logger, _options.DeadLetterCapacity), cancellationToken);
    }

    /// <summary>Hands a stamped message to the broker; completes on the confirm.</summary>
    private ValueTask PublishToBroker(in Envelope envelope, string? queue, bool mandatory, PendingRequest? request, CancellationToken cancellationToken)
    {
        // Always mandatory for the broker: an unroutable publish comes back, so it is counted and warned about as in
        // process; only a publish that asked for it fails.
        var flags = BrokerPublishFlags.Mandatory | (request is null ? BrokerPublishFlags.None : BrokerPublishFlags.Request);
        ValueTask publishing;
        try
        {
            publishing = _broker!.PublishAsync(envelope, queue, flags, cancellationToken);
        }
        catch (Exception exception)
        {
            return ValueTask.FromException(exception);
        }

        if (publishing.IsCompletedSuccessfully)
        {
            publishing.GetAwaiter().GetResult();
            BrokerPublished(envelope, request);
            return default;
        }

        return AwaitBrokerAsync(publishing, envelope, queue, mandatory || queue is not null, request);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitBrokerAsync(ValueTask publishing, Envelope envelope, string? queue, bool mandatory, PendingRequest? request)
    {
        try
        {
            await publishing.ConfigureAwait(false);
        }
        catch (UnroutableMessageException)
        {
            var refused = mandatory || request is not null;
            CountUnroutable(queue ?? envelope.Exchange, envelope, refused || queue is not null ? null : _topology.TryGetExchange(envelope.Exchange));
            if (refused)
            {
                throw;
            }

            return;
        }

        BrokerPublished(envelope, request);
    }

    private void BrokerPublished(in Envelope envelope, PendingRequest? request)
    {
        request?.Routed(1);
        Observers?.Published(envelope);
    }

    /// <summary>A scheduled message came due on a broker: published there; completes on the confirm, throws what the publish throws.</summary>
    internal ValueTask PublishScheduledToBrokerAsync(in Envelope envelope) =>
        PublishToBroker(envelope, null, mandatory: false, null, CancellationToken.None);
}
