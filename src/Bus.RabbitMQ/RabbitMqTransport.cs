using System.Runtime.CompilerServices;
using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ;

/// <summary>
/// The RabbitMQ transport: the bus's topology declared on the broker, publishes with publisher confirms, one consumer
/// per queue with manual acks, delayed retries in wait queues, replies over direct reply-to. The bus keeps its retry
/// policy, time to live, deduplication and dead-letter rules; this class only moves messages and settles deliveries.
/// </summary>
internal sealed class RabbitMqTransport : IBrokerTransport, IAsyncDisposable
{
    private readonly RabbitMqOptions _options;
    private readonly ILogger _logger;
    private readonly PublishChannels _publishChannels;
    private readonly SemaphoreSlim _topologyGate = new(1, 1);
    private readonly SemaphoreSlim _replyGate = new(1, 1);
    private readonly ConcurrentDictionary<string, Task> _waitQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, Task> _deadLetterQueues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<RabbitMqConsumer, byte> _consumers = new();
    private IChannel? _topologyChannel;
    private IChannel? _replyChannel;
    private BrokerContext? _context;
    private volatile bool _started;
    private volatile bool _stopped;
    private readonly Lock _pendingLock = new();
    private readonly List<Func<IChannel, Task>> _pending = [];

    // BusOptions are not taken here: the bus's options validator creates the transport while those options are being made.
    public RabbitMqTransport(IOptions<RabbitMqOptions> options, ILoggerFactory? loggerFactory = null)
    {
        _options = options.Value;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Bus.RabbitMQ");
        _publishChannels = new PublishChannels(_options.PublishChannels);
        Connections = new RabbitMqConnections(_options, _logger);
    }

    /// <summary>
    /// The broker holds, bounds and orders the messages: reject-publish and drop-head for full queues, a waiting
    /// publisher through the broker's own flow control (no <c>x-max-length</c>: the broker's memory and disk alarms
    /// block publishers), priorities on classic queues, time to live, delayed retries in wait queues.
    /// </summary>
    public TransportFeatures Features =>
        TransportFeatures.FullWait | TransportFeatures.FullReject | TransportFeatures.FullDropOldest | TransportFeatures.Priority
        | TransportFeatures.TimeToLive | TransportFeatures.Leases | TransportFeatures.Durable | TransportFeatures.OwnsRouting
        | TransportFeatures.DurableDelays;

    public RabbitMqConnections Connections { get; }

    public RabbitMqOptions Options => _options;

    public ILogger Logger => _logger;

    public int DeadLetterCapacity => Context.DeadLetterCapacity;

    /// <summary>The dead-letter queues this process declared or published to.</summary>
    public ICollection<string> DeadLetterQueueNames => _deadLetterQueues.Keys;

    /// <summary>The bus's context, once started.</summary>
    public BrokerContext Context => _context ?? throw new InvalidOperationException("The RabbitMQ transport has not started: start the bus first.");

    /// <summary>Queues live on the broker; the bus's lanes over them are its own (see <see cref="IBrokerTransport"/>).</summary>
    public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped) =>
        throw new NotSupportedException("The RabbitMQ transport routes and stores on the broker; the bus keeps only leased buffers in process.");

    public void CheckQueue(string name, QueueOptions options, List<string> errors) =>
        RabbitMqTopology.CheckQueue(name, options, _options.QueueType, errors);

    public void CheckExchange(string name, IRoutingStrategy strategy, List<string> errors) =>
        RabbitMqTopology.CheckExchange(name, strategy, errors);

    /// <remarks>What the broker cannot do was refused before this, by the bus's options validation (<see cref="CheckQueue"/>, <see cref="CheckExchange"/>).</remarks>
    public async Task StartAsync(BrokerContext context, CancellationToken cancellationToken)
    {
        _context = context;
        await Connections.OpenAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await DeclareAllAsync(context, cancellationToken).ConfigureAwait(false);
            await EnsureReplyChannelAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            // A start that failed leaves nothing open: the bus stays created, and a new one may try again.
            await Connections.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        await DeclarePendingAsync(cancellationToken).ConfigureAwait(false);
        Log.TopologyDeclared(_logger, Connections.Endpoint, context.Exchanges.Count, context.Queues.Count, context.Bindings.Count);
    }

    private Task DeclareAllAsync(BrokerContext context, CancellationToken cancellationToken) =>
        RunTopologyAsync(
            async channel =>
            {
                foreach (var (name, strategy) in context.Exchanges)
                {
                    await RabbitMqTopology.DeclareExchangeAsync(channel, name, strategy, cancellationToken).ConfigureAwait(false);
                }

                foreach (var (name, options) in context.Queues)
                {
                    await DeclareQueueOnAsync(channel, name, options, cancellationToken).ConfigureAwait(false);
                }

                foreach (var binding in context.Bindings)
                {
                    await RabbitMqTopology.BindAsync(channel, binding, cancellationToken).ConfigureAwait(false);
                }
            },
            cancellationToken);

    public void DeclareExchange(string name, IRoutingStrategy strategy)
    {
        var errors = new List<string>();
        RabbitMqTopology.CheckExchange(name, strategy, errors);
        if (errors.Count > 0)
        {
            throw new InvalidOperationException(string.Join(" ", errors));
        }

        RunTopologySync(channel => RabbitMqTopology.DeclareExchangeAsync(channel, name, strategy, CancellationToken.None));
    }

    public void DeclareQueue(string name, QueueOptions options)
    {
        var errors = new List<string>();
        RabbitMqTopology.CheckQueue(name, options, _options.QueueType, errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        RunTopologySync(channel => DeclareQueueOnAsync(channel, name, options, CancellationToken.None));
    }

    public void Bind(Binding binding) => RunTopologySync(channel => RabbitMqTopology.BindAsync(channel, binding, CancellationToken.None));

    public void Unbind(Binding binding) => RunTopologySync(channel => RabbitMqTopology.UnbindAsync(channel, binding, CancellationToken.None));

    public async Task DeleteQueueAsync(string name, Func<Envelope, Task> left, CancellationToken cancellationToken)
    {
        // The retries first, from every rung (another instance may have forwarded them), then the queue they return to.
        foreach (var rung in RetryDelays.Rungs)
        {
            var wait = RabbitMqNames.Wait(name, rung);
            if (await TakeWhatIsLeftAsync(wait, left, cancellationToken).ConfigureAwait(false))
            {
                await RunTopologyAsync(channel => channel.QueueDeleteAsync(wait, ifUnused: false, ifEmpty: false, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
            }

            _waitQueues.TryRemove(wait, out _);
        }

        // Deleted only when empty: a message that arrived after the last take (a send by name) is taken next round.
        for (var round = 1; await TakeWhatIsLeftAsync(name, left, cancellationToken).ConfigureAwait(false); round++)
        {
            try
            {
                await RunTopologyAsync(channel => channel.QueueDeleteAsync(name, ifUnused: false, ifEmpty: true, cancellationToken: cancellationToken), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 406 && round < MaxDeletionRounds)
            {
                // Not empty after all: take again.
            }
        }
    }

    private const int MaxDeletionRounds = 10;

    /// <summary>Hands each message left in a queue to the bus, acknowledging it only once the bus has it; false when there is no such queue.</summary>
    private async Task<bool> TakeWhatIsLeftAsync(string queue, Func<Envelope, Task> left, CancellationToken cancellationToken)
    {
        var channel = await Connections.Publish.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        try
        {
            while (await channel.BasicGetAsync(queue, autoAck: false, cancellationToken).ConfigureAwait(false) is { } result)
            {
                Envelope envelope;
                if (!AmqpMessage.TryRead(result.BasicProperties, result.Body, result.Exchange, result.RoutingKey, redelivered: false, Context.Time, out var wire, out var unreadable))
                {
                    envelope = unreadable.Envelope;
                }
                else if (!Context.Codec.TryDecode(wire, out envelope, out _, out _))
                {
                    envelope = envelope.WithHeaders(MessageHeaders.With(envelope.Headers, AmqpMessage.TypeHeader, wire.TypeName));
                }

                await left(envelope).ConfigureAwait(false);
                await channel.BasicAckAsync(result.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
            }

            return true;
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
        {
            // Not on the broker: nothing left in it.
            return false;
        }
        finally
        {
            await CloseQuietlyAsync(channel).ConfigureAwait(false);
            channel.Dispose();
        }
    }

    public ValueTask PublishAsync(Envelope envelope, string? queue, BrokerPublishFlags flags, CancellationToken cancellationToken)
    {
        var wire = WireOf(envelope);
        var request = (flags & BrokerPublishFlags.Request) != 0;
        var properties = AmqpMessage.Properties(wire, request ? AmqpMessage.DirectReplyTo : ConsumeContext.RemoteReplyTo(envelope));
        return PublishEnvelopeAsync(envelope, queue, flags, properties, wire.Body, cancellationToken);
    }

    public IBrokerConsumer Consume(string queue, QueueOptions options, IDeliveryTarget target)
    {
        var consumer = new RabbitMqConsumer(this, queue, options, target);
        _consumers[consumer] = 0;
        consumer.Start();
        return consumer;
    }

    public async ValueTask ForwardRetryAsync(string queue, Envelope next, TimeSpan delay, CancellationToken cancellationToken)
    {
        var rung = RetryDelays.RungFor(delay);
        var wait = RabbitMqNames.Wait(queue, rung);
        await EnsureDeclaredAsync(_waitQueues, wait, channel => channel.QueueDeclareAsync(wait, durable: true, exclusive: false, autoDelete: false, RabbitMqTopology.WaitArguments(queue, rung))).ConfigureAwait(false);
        var wire = WireOf(next);
        var properties = AmqpMessage.Properties(wire, ConsumeContext.RemoteReplyTo(next));

        // The wait queue's own time to live decides when the retry returns; the message's travels in its header, and the
        // bus checks it when the retry is delivered (a broker drops a message's expiration when it dead-letters it).
        properties.Expiration = null;
        await PublishRawAsync(string.Empty, wait, mandatory: true, properties, wire.Body, onReplyChannel: false, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask ReplyAsync(string replyTo, Guid requestId, object? response, Type responseType, string? fault, CancellationToken cancellationToken)
    {
        var codec = Context.Codec;
        var body = response is null ? ReadOnlyMemory<byte>.Empty : codec.Serialize(response, responseType);
        var properties = new BasicProperties
        {
            MessageId = MessageIdGenerator.Next(Context.Time.GetUtcNow()).ToString(),
            CorrelationId = requestId.ToString(),
            Type = response is null ? null : codec.NameOf(responseType),
            ContentType = codec.Serializer.ContentType,
        };
        if (fault is not null)
        {
            properties.Headers = new Dictionary<string, object?>(StringComparer.Ordinal) { [AmqpMessage.FaultHeader] = fault };
        }

        return PublishRawAsync(string.Empty, replyTo, mandatory: false, properties, body, onReplyChannel: false, cancellationToken);
    }

    /// <summary>Publishes a dead letter to its queue's dead-letter queue, declaring that queue first if this process has not.</summary>
    public async ValueTask PublishDeadLetterAsync(string queue, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var deadLetters = RabbitMqNames.DeadLetters(queue);
        await EnsureDeclaredAsync(_deadLetterQueues, deadLetters, channel => channel.QueueDeclareAsync(deadLetters, durable: true, exclusive: false, autoDelete: false, RabbitMqTopology.DeadLetterArguments(DeadLetterCapacity, _options.QueueType))).ConfigureAwait(false);
        await PublishRawAsync(string.Empty, deadLetters, mandatory: true, properties, body, onReplyChannel: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A message's wire form: serialized, or, for one that arrived unreadable (its body kept as bytes, its type name in a
    /// header), byte for byte under the name it came with, so a replay or a retry never re-encodes the raw bytes.
    /// </summary>
    public WireMessage WireOf(in Envelope envelope) =>
        envelope.Message is byte[] raw && envelope.MessageType == typeof(byte[])
            && envelope.Headers.TryGetValue(AmqpMessage.TypeHeader, out var name) && name is string typeName
            ? new WireMessage(raw, string.Empty, typeName, envelope.MessageId, envelope.CorrelationId, envelope.Timestamp, envelope.TimeToLive, envelope.Priority, envelope.DeliveryCount, envelope.Exchange, envelope.RoutingKey, envelope.Headers)
            : Context.Codec.Encode(envelope);

    public async ValueTask<long> CountWaitingAsync(string queue, CancellationToken cancellationToken)
    {
        long waiting = 0;
        var prefix = queue + ".retry.";
        await RunTopologyAsync(
            async channel =>
            {
                waiting += await channel.MessageCountAsync(queue, cancellationToken).ConfigureAwait(false);
                foreach (var (wait, declared) in _waitQueues)
                {
                    // Only wait queues the broker has: one still being declared holds nothing yet.
                    if (declared.IsCompletedSuccessfully && wait.StartsWith(prefix, StringComparison.Ordinal))
                    {
                        waiting += await channel.MessageCountAsync(wait, cancellationToken).ConfigureAwait(false);
                    }
                }
            },
            cancellationToken).ConfigureAwait(false);
        return waiting;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        _started = false;
        _stopped = true;
        foreach (var consumer in _consumers.Keys)
        {
            await consumer.CloseAsync().ConfigureAwait(false);
        }

        await _publishChannels.CloseAsync().ConfigureAwait(false);

        // No reply reaches a requester once its reply channel is closed: it fails now rather than at its timeout.
        _context?.Requests.FailAllRemote("the bus stopped before a response came");
        await CloseQuietlyAsync(_replyChannel).ConfigureAwait(false);
        await CloseQuietlyAsync(_topologyChannel).ConfigureAwait(false);
        await Connections.DisposeAsync().ConfigureAwait(false);
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Publishes and waits for the confirm. While the connection is down (it recovers by itself) the publish waits for
    /// it, up to <see cref="RabbitMqOptions.PublishTimeout"/>, then throws <see cref="TransportUnavailableException"/>.
    /// A publish cut off before its confirm is sent again: at least once, so consumers deduplicate by message id.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    internal async ValueTask PublishRawAsync(string exchange, string routingKey, bool mandatory, BasicProperties properties, ReadOnlyMemory<byte> body, bool onReplyChannel, CancellationToken cancellationToken)
    {
        var started = Stopwatch.GetTimestamp();
        var retriedOnOpenConnection = false;

        // The confirm is awaited for PublishTimeout at most: a channel can hang on its confirms when the broker restarts
        // under load (rabbitmq-dotnet-client#1930); such a channel is dropped, and the outcome reported as unknown.
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(_options.PublishTimeout);
        while (true)
        {
            if (_stopped)
            {
                // Late work of a stopped bus (a consumer the stop gave up on answering its request, say).
                throw new TransportUnavailableException("The RabbitMQ transport has stopped with its bus; the message was not sent.");
            }

            IChannel? channel = null;
            try
            {
                channel = onReplyChannel
                    ? await EnsureReplyChannelAsync(cancellationToken).ConfigureAwait(false)
                    : await _publishChannels.GetAsync(Connections.Publish, cancellationToken).ConfigureAwait(false);
                await channel.BasicPublishAsync(exchange, routingKey, mandatory, properties, body, bounded.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException exception) when (bounded.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                if (channel is not null)
                {
                    Discard(channel);
                }

                throw new TransportUnavailableException(
                    $"RabbitMQ at {Connections.Endpoint} did not confirm the message within {_options.PublishTimeout} (RabbitMqOptions.PublishTimeout); its outcome is unknown: it may still arrive.",
                    exception);
            }
            catch (Exception exception) when (IsConnectionProblem(exception) && !cancellationToken.IsCancellationRequested)
            {
                if (Connections.Publish.IsOpen)
                {
                    // The channel alone was closed (by the broker, for an error on it): one more try on a new channel.
                    if (retriedOnOpenConnection)
                    {
                        throw;
                    }

                    retriedOnOpenConnection = true;
                    continue;
                }

                // The connection's loss may not be signalled yet: a short pause, so this loop never spins.
                await Task.Delay(OutagePause, TimeProvider.System, cancellationToken).ConfigureAwait(false);
                var left = _options.PublishTimeout - Stopwatch.GetElapsedTime(started);
                if (left <= TimeSpan.Zero || !await Connections.WaitForPublishAsync(left, cancellationToken).ConfigureAwait(false))
                {
                    throw new TransportUnavailableException(
                        $"RabbitMQ at {Connections.Endpoint} has been unreachable for {_options.PublishTimeout} (RabbitMqOptions.PublishTimeout); the message was not sent.",
                        exception);
                }
            }
        }
    }

    /// <summary>Drops a channel that stopped confirming, so the next publish opens a new one; closing it frees what waits on it.</summary>
    private void Discard(IChannel channel)
    {
        _publishChannels.Discard(channel);
        Interlocked.CompareExchange(ref _replyChannel, null, channel);
        _ = Task.Run(async () =>
        {
            try
            {
                await channel.AbortAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException)
            {
                // Gone already.
            }
        });
    }

    private static readonly TimeSpan OutagePause = TimeSpan.FromMilliseconds(50);

    private static bool IsConnectionProblem(Exception exception) =>
        exception is AlreadyClosedException or OperationInterruptedException or BrokerUnreachableException or ObjectDisposedException
        || exception is IOException;

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishEnvelopeAsync(Envelope envelope, string? queue, BrokerPublishFlags flags, BasicProperties properties, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        var request = (flags & BrokerPublishFlags.Request) != 0;
        var exchange = queue is null ? envelope.Exchange : string.Empty;
        var routingKey = queue ?? envelope.RoutingKey;
        try
        {
            await PublishRawAsync(exchange, routingKey, (flags & BrokerPublishFlags.Mandatory) != 0, properties, body, request, cancellationToken).ConfigureAwait(false);
        }
        catch (PublishReturnException)
        {
            throw queue is not null
                ? new UnroutableMessageException($"There is no queue named '{queue}' on the broker; {envelope.MessageType} {envelope.MessageId} was not sent.")
                : request ? UnroutableMessageException.NoResponder(envelope.MessageType, exchange, routingKey)
                : new UnroutableMessageException(envelope.MessageType, exchange, routingKey);
        }
        catch (PublishException)
        {
            // A nack: a queue at its x-max-length with reject-publish refused it (the only nack the bus's topology makes).
            throw new QueueFullException(
                queue ?? exchange,
                envelope.MessageType,
                $"The broker refused {envelope.MessageType} {envelope.MessageId} published to {(queue is null ? $"exchange '{exchange}'" : $"queue '{queue}'")}: a queue it routes to is full and rejects new messages (FullMode Reject).");
        }
    }

    private async Task DeclareQueueOnAsync(IChannel channel, string name, QueueOptions options, CancellationToken cancellationToken)
    {
        try
        {
            await RabbitMqTopology.DeclareQueueAsync(channel, name, options, _options.QueueType, DeadLetterCapacity, cancellationToken).ConfigureAwait(false);
            _deadLetterQueues.TryAdd(RabbitMqNames.DeadLetters(name), Task.CompletedTask);
        }
        catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 406)
        {
            throw new InvalidOperationException(
                $"Queue '{name}' already exists on the broker with other arguments than its options give ({exception.ShutdownReason.ReplyText}); delete it on the broker, or give it its former options.",
                exception);
        }
    }

    /// <summary>Declares a queue once per process (the declarations are bounded by the queues and rungs); a failed declaration is tried again next time.</summary>
    private async Task EnsureDeclaredAsync(ConcurrentDictionary<string, Task> declared, string name, Func<IChannel, Task> declare)
    {
        var declaring = declared.GetOrAdd(name, _ => RunTopologyAsync(declare, CancellationToken.None));
        try
        {
            await declaring.ConfigureAwait(false);
        }
        catch
        {
            declared.TryRemove(new KeyValuePair<string, Task>(name, declaring));
            throw;
        }
    }

    /// <summary>
    /// Declares what changed while the start was declaring its snapshot, then lets later changes go to the broker at
    /// once. The declarations are idempotent, so one the snapshot already had costs a round trip, nothing more.
    /// </summary>
    private async Task DeclarePendingAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            List<Func<IChannel, Task>> pending;
            lock (_pendingLock)
            {
                if (_pending.Count == 0)
                {
                    _started = true;
                    return;
                }

                pending = [.. _pending];
                _pending.Clear();
            }

            foreach (var declare in pending)
            {
                await RunTopologyAsync(declare, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private void RunTopologySync(Func<IChannel, Task> declare)
    {
        if (!_started)
        {
            lock (_pendingLock)
            {
                if (!_started)
                {
                    // The start is declaring its snapshot: this change goes after it.
                    _pending.Add(declare);
                    return;
                }
            }
        }

        // The bus's topology API is synchronous; declarations are rare and short, so this waits, bounded.
        RunTopologyAsync(declare, CancellationToken.None).WaitAsync(_options.PublishTimeout).GetAwaiter().GetResult();
    }

    /// <summary>Runs declarations on the one topology channel, one at a time; a channel the broker closed is replaced.</summary>
    private async Task RunTopologyAsync(Func<IChannel, Task> declare, CancellationToken cancellationToken)
    {
        await _topologyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_topologyChannel is not { IsOpen: true })
            {
                _topologyChannel?.Dispose();
                _topologyChannel = await Connections.Publish.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            }

            await declare(_topologyChannel).ConfigureAwait(false);
        }
        finally
        {
            _topologyGate.Release();
        }
    }

    /// <summary>The channel requests go out on and replies come back to (RabbitMQ's direct reply-to needs both on one channel).</summary>
    private async ValueTask<IChannel> EnsureReplyChannelAsync(CancellationToken cancellationToken)
    {
        var channel = _replyChannel;
        if (channel is { IsOpen: true })
        {
            return channel;
        }

        await _replyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_replyChannel is { IsOpen: true } open)
            {
                return open;
            }

            _replyChannel?.Dispose();
            channel = await PublishChannels.OpenAsync(Connections.Publish, cancellationToken).ConfigureAwait(false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnReplyAsync;
            await channel.BasicConsumeAsync(AmqpMessage.DirectReplyTo, autoAck: true, consumer, cancellationToken).ConfigureAwait(false);
            _replyChannel = channel;
            return channel;
        }
        finally
        {
            _replyGate.Release();
        }
    }

    private Task OnReplyAsync(object sender, BasicDeliverEventArgs delivery)
    {
        var properties = delivery.BasicProperties;
        if (!Guid.TryParse(properties.CorrelationId, out var requestId))
        {
            return Task.CompletedTask;
        }

        var requests = Context.Requests;
        if (AmqpMessage.HeaderString(properties, AmqpMessage.FaultHeader) is { } fault)
        {
            requests.TryFaultRemote(requestId, fault);
            return Task.CompletedTask;
        }

        if (requests.ResponseTypeOf(requestId) is not { } expected)
        {
            Log.ReplyWithoutRequester(_logger, requestId);
            return Task.CompletedTask;
        }

        if (Context.Codec.TryDeserializeAs(delivery.Body.Span, properties.Type ?? string.Empty, expected, out var response, out var problem))
        {
            requests.TryRespond(requestId, response);
        }
        else
        {
            Log.ReplyUnreadable(_logger, requestId, problem!);
            requests.TryFaultRemote(requestId, $"its response could not be read: {problem}");
        }

        return Task.CompletedTask;
    }

    internal void Forget(RabbitMqConsumer consumer) => _consumers.TryRemove(consumer, out _);

    private static async Task CloseQuietlyAsync(IChannel? channel)
    {
        if (channel is { IsOpen: true })
        {
            try
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
            {
                // Closed meanwhile by the broker or the connection.
            }
        }
    }
}
