using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>
/// The bus: publishing (route, then enqueue into every bound queue) and the lifecycle. Consuming and settling belong to
/// the queues (<see cref="BusQueue"/>), stopping to <see cref="BusShutdown"/>, replay to <see cref="DeadLetterReplay"/>.
/// </summary>
[DebuggerDisplay("Bus {State}")]
internal sealed partial class MessageBus : IMessageBus
{
    private static readonly IReadOnlyDictionary<string, object?> s_requestHeaders =
        new Dictionary<string, object?> { [RequestHeaders.ReplyTo] = RequestHeaders.InProcess };

    private readonly Lock _stateLock = new();
    private readonly BusOptions _options;
    private readonly TimeProvider _time;
    private readonly BusTopology _topology;
    private readonly BusShutdown _shutdown;
    private readonly DeadLetterReplay _replay;
    private readonly IServiceProvider _services;
    private readonly FilterRegistration[] _publishFilters;
    private readonly UnroutableWarnings _unroutableWarnings;
    private readonly IBrokerTransport? _broker;
    private PublishFilterDelegate? _publishPipeline;

    // The end of the publish pipeline as a delegate made once: a method group converted per publish allocates.
    private readonly PublishFilterDelegate _publishTerminal;
    private bool _publishNeedsScope;
    private volatile BusState _state = BusState.Created;
    private Task<DrainReport>? _stopping;
    private Task? _starting;
    private long _unroutable;
    private long _startedTimestamp;
    private long _stoppedTimestamp;
    private int _disposed;

    public MessageBus(
        IOptions<BusOptions> options,
        IMessageTransport transport,
        IDeadLetterStore deadLetters,
        TimeProvider time,
        IServiceProvider services,
        IEnumerable<IBusObserver> observers,
        ILoggerFactory? loggerFactory = null,
        IMeterFactory? meterFactory = null)
    {
        _options = options.Value;
        _time = time;
        _services = services;
        Clock = MessageClock.For(time);
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Bus");
        LogsScopes = _options.LogScopes && loggerFactory is not null and not NullLoggerFactory;
        Observers = Observers.Create(observers, Logger);
        _unroutableWarnings = new UnroutableWarnings(Logger);
        Requests = new PendingRequests(_options.MaxPendingRequests);
        Metrics = new BusMetrics(meterFactory);
        _broker = (transport.Features & TransportFeatures.OwnsRouting) != 0 ? transport as IBrokerTransport : null;
        DeadLetters = new DeadLetterSink(deadLetters, time, Logger, Observers, Requests, Metrics, _broker);
        _publishFilters = [.. _options.PublishFilters];
        FilterInstances = new FilterInstances(services);
        _publishTerminal = PublishFromContextAsync;
        Delayed = new DelayedDeliveries(this, time, _options.ScheduledCapacity, Idle);
        _topology = new BusTopology(this, _options, transport, services);
        _shutdown = new BusShutdown(this, _topology);
        _replay = new DeadLetterReplay(this, _topology);
        Metrics.AddGauges(this);
    }

    public BusState State => _state;

    public IBusTopology Topology => _topology;

    internal BusTopology TopologyCore => _topology;

    internal ILogger Logger { get; }

    /// <summary>Whether deliveries begin a logging scope: asked for, and a logger factory is there to keep it.</summary>
    internal bool LogsScopes { get; }

    internal BusMetrics Metrics { get; }

    /// <summary>This bus's filter instances: singletons are per bus, even when several buses share one configuration.</summary>
    internal FilterInstances FilterInstances { get; }

    internal IdleMonitor Idle { get; } = new();

    /// <summary>The registered observers, or null when there are none.</summary>
    internal Observers? Observers { get; }

    internal BusOptions Options => _options;

    internal TimeProvider Time => _time;

    internal MessageClock Clock { get; }

    internal DeadLetterSink DeadLetters { get; }

    internal DelayedDeliveries Delayed { get; }

    internal PendingRequests Requests { get; }

    /// <summary>When the bus started, or null before it does.</summary>
    internal DateTimeOffset? StartedAt { get; private set; }

    internal long UnroutableCount => Volatile.Read(ref _unroutable);

    /// <summary>How long the bus has run: zero before the start, frozen at the stop.</summary>
    internal TimeSpan Uptime
    {
        get
        {
            var started = Volatile.Read(ref _startedTimestamp);
            if (started == 0)
            {
                return TimeSpan.Zero;
            }

            var stopped = Volatile.Read(ref _stoppedTimestamp);
            return stopped == 0 ? _time.GetElapsedTime(started) : _time.GetElapsedTime(started, stopped);
        }
    }

    public ValueTask PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(message, null, null, null, null, null, null, cancellationToken);

    public ValueTask PublishAsync<TMessage>(TMessage message, string routingKey, CancellationToken cancellationToken = default)
    {
        if (routingKey is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(routingKey));
        }

        return PublishCoreAsync(message, null, routingKey, null, null, null, null, cancellationToken);
    }

    public ValueTask PublishAsync<TMessage>(TMessage message, PublishOptions? options, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(message, options, null, null, null, null, null, cancellationToken);

    public ValueTask SendAsync<TMessage>(string queue, TMessage message, CancellationToken cancellationToken = default) =>
        SendAsync(queue, message, null, cancellationToken);

    public ValueTask SendAsync<TMessage>(string queue, TMessage message, PublishOptions? options, CancellationToken cancellationToken = default)
    {
        if (queue is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(queue));
        }

        return PublishCoreAsync(message, options, null, queue, null, null, null, cancellationToken);
    }

    public Task<TResponse> RequestAsync<TRequest, TResponse>(TRequest request, CancellationToken cancellationToken = default) =>
        RequestAsync<TRequest, TResponse>(request, _options.DefaultRequestTimeout, cancellationToken);

    public async Task<TResponse> RequestAsync<TRequest, TResponse>(TRequest request, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (timeout <= TimeSpan.Zero && timeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(timeout), timeout, "A request timeout must be more than zero, or Timeout.InfiniteTimeSpan.");
        }

        var requestId = MessageIdGenerator.Next(Clock.UtcNow());

        // The request's span lasts until the response (or the fault, or the timeout): the publish span below is its
        // child, and the responder's process span the publish span's.
        using var activity = BusDiagnostics.Source.HasListeners() ? BusTracing.StartRequest(typeof(TRequest), requestId) : null;
        using var pending = new PendingRequest<TResponse>(typeof(TRequest), timeout);
        if (!Requests.TryAdd(requestId, pending))
        {
            throw new InvalidOperationException(
                $"{_options.MaxPendingRequests} requests are already waiting for responses (BusOptions.MaxPendingRequests); {typeof(TRequest)} was not sent.");
        }

        try
        {
            var options = new PublishOptions { MessageId = requestId, Mandatory = true, Headers = s_requestHeaders };
            await PublishCoreAsync(request, options, null, null, null, null, pending, cancellationToken).ConfigureAwait(false);

            // The response, a fault, the timeout and the token all complete the one task; the first wins.
            pending.StartWaiting(_time, cancellationToken);
            return await pending.Response.ConfigureAwait(false);
        }
        catch (Exception exception) when (activity is not null)
        {
            BusTracing.Fail(activity, exception);
            throw;
        }
        finally
        {
            Requests.Remove(requestId);
        }
    }

    public Task<Guid> ScheduleAsync<TMessage>(TMessage message, TimeSpan delay, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return ScheduleAsync(message, _time.GetUtcNow() + delay, options, cancellationToken);
    }

    public Task<Guid> ScheduleAsync<TMessage>(TMessage message, DateTimeOffset deliverAt, PublishOptions? options = null, CancellationToken cancellationToken = default)
    {
        if (message is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(message));
        }

        var origin = ConsumerSlot.Current;
        if (_state != BusState.Running)
        {
            ThrowHelper.ThrowNotRunning(typeof(TMessage), _state);
        }

        cancellationToken.ThrowIfCancellationRequested();
        var routingKey = options?.RoutingKey ?? string.Empty;
        if (routingKey.Length > RoutingKeys.MaxLength)
        {
            ThrowHelper.ThrowRoutingKeyTooLong(routingKey);
        }

        var messageType = MessageTypeInfo<TMessage>.RoutesByRuntimeType ? message.GetType() : typeof(TMessage);
        if (_publishPipeline is not null)
        {
            return ScheduleFilteredAsync(message, messageType, deliverAt, options, routingKey, origin, cancellationToken);
        }

        var exchange = options?.Exchange is { } named ? _topology.GetExchange(named) : _topology.GetMessageExchange(messageType);
        var messageId = options?.MessageId ?? MessageIdGenerator.Next(Clock.UtcNow());

        // Stamped with its due time: that is when it is sent into the queues, and its time to live counts from then.
        var envelope = new Envelope(
            message,
            messageType,
            messageId,
            options?.CorrelationId ?? origin?.CurrentCorrelationId ?? messageId,
            deliverAt,
            exchange.Name,
            routingKey,
            ScheduledHeaders(options?.Headers is { } given ? MessageHeaders.Copy(given, nameof(options)) : null),
            deliveryCount: 1,
            options?.TimeToLive,
            options?.Priority ?? 0);
        Schedule(exchange, envelope, deliverAt);
        return Task.FromResult(messageId);
    }

    /// <summary>Hands a stamped message to the schedule; throws when the schedule refuses it.</summary>
    private void Schedule(Exchange exchange, in Envelope envelope, DateTimeOffset deliverAt)
    {
        switch (Delayed.TrySchedulePublish(exchange, envelope, deliverAt))
        {
            case ScheduleResult.Scheduled:
                return;
            case ScheduleResult.Full:
                throw new InvalidOperationException(
                    $"{_options.ScheduledCapacity} messages are already scheduled (BusOptions.ScheduledCapacity); {envelope.MessageType} was not scheduled.");
            case ScheduleResult.Duplicate:
                throw new InvalidOperationException(
                    $"A message with id {envelope.MessageId} is already scheduled; {envelope.MessageType} was not scheduled. Cancel the first (CancelScheduled) or give this one another id.");
            default:
                throw new BusNotRunningException(envelope.MessageType, BusState.Stopping);
        }
    }

    public IReadOnlyList<ScheduledMessage> GetScheduledMessages() => Delayed.ListPublishes();

    /// <summary>A scheduled message's headers, with the scheduler's trace context so its consumers join the trace.</summary>
    private static IReadOnlyDictionary<string, object?>? ScheduledHeaders(IReadOnlyDictionary<string, object?>? headers) =>
        BusDiagnostics.Source.HasListeners() ? BusTracing.Inject(null, headers) : headers;

    public bool CancelScheduled(Guid messageId) => Delayed.CancelPublish(messageId);

    /// <summary>
    /// Routes a scheduled message that came due into its queues, without waiting (see <see cref="BusQueue.AcceptScheduled"/>).
    /// Returns how many queues took it; a routing strategy that throws is the caller's to handle.
    /// </summary>
    internal int PublishScheduled(Exchange exchange, in Envelope envelope)
    {

        var route = exchange.Route(new RoutingContext(envelope.MessageType, envelope.RoutingKey, envelope.Headers));
        if (route.Length == 0)
        {
            Interlocked.Increment(ref _unroutable);
            Metrics.RecordUnroutable(exchange.Name, envelope.MessageType);
            Log.ScheduledUnroutable(Logger, envelope.MessageId, envelope.MessageType, exchange.Name, envelope.RoutingKey);
            Observers?.Unroutable(envelope);
            return 0;
        }

        Observers?.Published(envelope);
        foreach (var queue in route)
        {
            queue.AcceptScheduled(envelope);
        }

        return route.Length;
    }

    /// <summary>
    /// The publish path: check, route, stamp the envelope, enqueue into every destination. It completes synchronously
    /// and allocates nothing when every queue has room. A <paramref name="routingKey"/> given apart from the options
    /// wins; a <paramref name="queue"/> sends point-to-point; <paramref name="origin"/> is the consumer slot publishing,
    /// if any; <paramref name="request"/> learns how many queues its request reached.
    /// </summary>
    internal ValueTask PublishCoreAsync<TMessage>(
        TMessage message,
        PublishOptions? options,
        string? routingKey,
        string? queue,
        Guid? correlationId,
        ConsumerSlot? origin,
        PendingRequest? request,
        CancellationToken cancellationToken)
    {
        if (message is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(message));
        }

        origin ??= ConsumerSlot.Current;
        var state = _state;
        if (state != BusState.Running && (state != BusState.Stopping || origin is null))
        {
            ThrowHelper.ThrowNotRunning(typeof(TMessage), state);
        }

        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(cancellationToken);
        }

        routingKey ??= options?.RoutingKey ?? string.Empty;
        if (routingKey.Length > RoutingKeys.MaxLength)
        {
            ThrowHelper.ThrowRoutingKeyTooLong(routingKey);
        }

        var byRuntimeType = MessageTypeInfo<TMessage>.RoutesByRuntimeType;
        var messageType = byRuntimeType ? message.GetType() : typeof(TMessage);
        if (_publishPipeline is not null || BusDiagnostics.Source.HasListeners() || Metrics.ObservesPublish)
        {
            return PublishObservedAsync(message, messageType, options, routingKey, queue, correlationId, origin, request, cancellationToken);
        }

        var headers = options?.Headers is { } given ? MessageHeaders.Copy(given, nameof(options)) : null;
        BusQueue[] route;
        string exchangeName;
        Exchange? exchange = null;
        if (queue is not null)
        {
            if (options?.Exchange is not null)
            {
                ThrowHelper.ThrowExchangeWithQueue();
            }

            // A broker knows queues this process never declared (another service consumes them).
            route = _broker is null ? _topology.GetQueueRoute(queue) : [];
            exchangeName = string.Empty;
        }
        else
        {
            exchange = options?.Exchange is { } named ? _topology.GetExchange(named)
                : byRuntimeType ? _topology.GetMessageExchange(messageType)
                : _topology.GetMessageExchange(MessageTypeInfo<TMessage>.Id, messageType);
            route = _broker is null ? exchange.Route(new RoutingContext(messageType, routingKey, headers ?? MessageHeaders.Empty)) : [];
            exchangeName = exchange.Name;
        }

        var now = Clock.UtcNow();
        var messageId = options?.MessageId ?? MessageIdGenerator.Next(now);
        var envelope = new Envelope(
            message,
            messageType,
            messageId,
            options?.CorrelationId ?? correlationId ?? origin?.CurrentCorrelationId ?? messageId,
            now,
            exchangeName,
            routingKey,
            headers,
            deliveryCount: 1,
            options?.TimeToLive,
            options?.Priority ?? 0);
        if (_broker is not null)
        {
            return PublishToBroker(envelope, queue, options?.Mandatory == true, request, cancellationToken);
        }

        if (route.Length == 0)
        {
            return Unroutable(exchange!, envelope, options?.Mandatory == true, request is not null);
        }

        request?.Routed(route.Length);
        return Enqueue(route, envelope, origin, request, cancellationToken);
    }

    /// <summary>Enqueues a stamped message into every queue of its route; synchronous while every queue has room.</summary>
    private ValueTask Enqueue(BusQueue[] route, in Envelope envelope, ConsumerSlot? origin, PendingRequest? request, CancellationToken cancellationToken)
    {
        for (var i = 0; i < route.Length; i++)
        {
            var status = route[i].TryEnqueue(envelope, origin);
            if (status != EnqueueStatus.Accepted)
            {
                return DeliverSlowAsync(route, i, status, envelope, origin, request, cancellationToken);
            }
        }

        Observers?.Published(envelope);
        return default;
    }

    /// <summary>
    /// Delivers to the remaining queues once one could not take the message at once: waits where the queue asks the
    /// publisher to wait, keeps going past queues that refuse, and reports the first refusal at the end, so that
    /// queues with room get their copy (as RabbitMQ does).
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DeliverSlowAsync(BusQueue[] route, int index, EnqueueStatus status, Envelope envelope, ConsumerSlot? origin, PendingRequest? request, CancellationToken cancellationToken)
    {
        Exception? refusal = null;
        for (var i = index; i < route.Length; i++)
        {
            var queue = route[i];
            if (i > index)
            {
                status = queue.TryEnqueue(envelope, origin);
            }

            if (status == EnqueueStatus.Full)
            {
                status = await queue.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
            }

            if (status == EnqueueStatus.Closed && queue.IsDeleted)
            {
                // A queue deleted after routing simply no longer takes messages (as in RabbitMQ); a request counts that
                // copy as one that will never answer.
                request?.CopyLost();
            }

            refusal ??= status switch
            {
                EnqueueStatus.Rejected => new QueueFullException(
                    queue.Name,
                    envelope.MessageType,
                    $"Queue '{queue.Name}' is full ({queue.Options.Capacity} messages) and rejects {envelope.MessageType}."),
                EnqueueStatus.OverflowFull => new QueueFullException(
                    queue.Name,
                    envelope.MessageType,
                    $"Queue '{queue.Name}' is full and so is its overflow for messages published by consumers ({queue.Options.EffectiveOverflowCapacity}); {envelope.MessageType} from a consumer cannot wait for room, because the consumer may be what has to make it. Raise QueueOptions.OverflowCapacity or Capacity."),

                // A queue closed by the stop refuses the publish.
                EnqueueStatus.Closed when !queue.IsDeleted => new BusNotRunningException(envelope.MessageType, BusState.Stopped),
                _ => null,
            };
        }

        if (refusal is not null)
        {
            throw refusal;
        }

        Observers?.Published(envelope);
    }

    /// <summary>
    /// A publish no queue is bound for: counted, logged (a warning the first time per exchange and type, unless the
    /// caller hears of it from the exception), shown to observers, and refused when mandatory: a request by saying
    /// that nobody could answer it.
    /// </summary>
    private ValueTask Unroutable(Exchange exchange, in Envelope envelope, bool mandatory, bool request)
    {
        var messageType = envelope.MessageType;
        CountUnroutable(exchange.Name, envelope, mandatory ? null : exchange);
        return !mandatory ? default
            : ValueTask.FromException(request
                ? UnroutableMessageException.NoResponder(messageType, exchange.Name, envelope.RoutingKey)
                : new UnroutableMessageException(messageType, exchange.Name, envelope.RoutingKey));
    }

    /// <summary>
    /// Counts, measures, logs and shows observers a publish that reached no queue; warns (the first time per exchange
    /// and type) on <paramref name="warnOn"/> when the publisher will not hear of it from an exception.
    /// </summary>
    private void CountUnroutable(string destination, in Envelope envelope, Exchange? warnOn)
    {
        Interlocked.Increment(ref _unroutable);
        Metrics.RecordUnroutable(destination, envelope.MessageType);
        Log.Unroutable(Logger, envelope.MessageType, destination, envelope.RoutingKey);
        if (warnOn is not null)
        {
            _unroutableWarnings.Warn(warnOn, envelope.MessageType, envelope.RoutingKey);
        }

        Observers?.Unroutable(envelope);
    }

    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_state == BusState.Running)
            {
                return Task.CompletedTask;
            }

            if (_state != BusState.Created)
            {
                throw new InvalidOperationException("The bus has been stopped, and a stopped bus cannot be started again. Build a new service provider for a new bus.");
            }

            cancellationToken.ThrowIfCancellationRequested();
            if (_broker is not null)
            {
                return _starting ??= StartWithBrokerAsync(cancellationToken);
            }

            BuildPublishPipeline();
            EnterRunning();
        }

        Started();
        return Task.CompletedTask;
    }

    /// <summary>Declares the topology on the broker, then runs as a bus in process does; a failed start leaves the bus created.</summary>
    private async Task StartWithBrokerAsync(CancellationToken cancellationToken)
    {
        try
        {
            await StartBrokerAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            lock (_stateLock)
            {
                _starting = null;
            }

            throw;
        }

        lock (_stateLock)
        {
            if (_stopping is not null)
            {
                throw new InvalidOperationException("The bus was stopped while it was starting.");
            }

            BuildPublishPipeline();
            EnterRunning();
        }

        Started();
    }

    private void EnterRunning()
    {
        StartedAt = _time.GetUtcNow();
        Volatile.Write(ref _startedTimestamp, Math.Max(1, _time.GetTimestamp()));
        _state = BusState.Running;
    }

    private void Started()
    {
        _topology.StartReaders();
        Log.Started(Logger, _topology.QueueList.Length, _topology.ExchangeCount);
        UnaddedConsumerCheck.Warn(_services, _options.Topology, Logger);
    }

    public Task<DrainReport> StopAsync(CancellationToken cancellationToken = default) => Stop(immediately: false, cancellationToken);

    public Task WaitForIdleAsync(CancellationToken cancellationToken = default) =>
        Idle.WaitAsync(static topology => topology.IsIdle(includeWaiting: false), _topology, cancellationToken);

    public Task<bool> ReplayAsync(Guid deadLetterId, string? queue = null, CancellationToken cancellationToken = default) =>
        _replay.ReplayAsync(deadLetterId, queue, cancellationToken);

    public Task<int> ReplayAsync(DeadLetterQuery query, string? queue = null, CancellationToken cancellationToken = default) =>
        _replay.ReplayAsync(query, queue, cancellationToken);

    public BusStatistics GetStatistics()
    {
        var queues = _topology.QueueList;
        var statistics = new QueueStatistics[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            statistics[i] = queues[i].GetStatistics();
        }

        var store = DeadLetters.Store;
        return new BusStatistics(UnroutableCount, store.Count, store.Evicted, statistics)
        {
            PendingRequests = Requests.Count,
            Scheduled = Delayed.PublishCount,
        };
    }

    /// <summary>
    /// Disposing a running bus stops it at once, without draining (the container that holds its consumers' services is
    /// going away): what is not done is taken over, reported as unprocessed and dead-lettered. A stop in progress is
    /// hurried the same way. Neither waits for a consumer.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _shutdown.Hurry();
            await Stop(immediately: true, CancellationToken.None).ConfigureAwait(false);
            Delayed.Dispose();
            Metrics.Dispose();
        }
    }

    /// <inheritdoc cref="DisposeAsync"/>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Refuses every publish, consumers' too, before any queue closes: a publish into a closed queue must fail loudly.</summary>
    internal void EnterStopped()
    {
        lock (_stateLock)
        {
            _state = BusState.Stopped;
            Volatile.Write(ref _stoppedTimestamp, Math.Max(1, _time.GetTimestamp()));
        }
    }

    private Task<DrainReport> Stop(bool immediately, CancellationToken cancellationToken)
    {
        lock (_stateLock)
        {
            if (_stopping is null)
            {
                var wasRunning = _state == BusState.Running;
                _state = wasRunning ? BusState.Stopping : BusState.Stopped;
                _stopping = wasRunning ? _shutdown.StopAsync(immediately, cancellationToken) : Task.FromResult(_shutdown.CloseUnstarted());
            }

            return _stopping;
        }
    }
}
