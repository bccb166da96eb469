using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>The bus: publishing (route, then enqueue into every bound queue) and the lifecycle.</summary>
[DebuggerDisplay("Bus {State}")]
internal sealed class MessageBus : IMessageBus
{
    private static readonly IReadOnlyDictionary<string, object?> s_requestHeaders =
        new Dictionary<string, object?> { [RequestHeaders.ReplyTo] = RequestHeaders.InProcess };

    private readonly Lock _stateLock = new();
    private readonly BusOptions _options;
    private readonly TimeProvider _time;
    private readonly BusTopology _topology;
    private volatile BusState _state = BusState.Created;
    private Task<DrainReport>? _stopping;
    private long _unroutable;
    private int _disposed;

    public MessageBus(
        IOptions<BusOptions> options,
        IMessageTransport transport,
        IDeadLetterStore deadLetters,
        TimeProvider time,
        IServiceProvider services,
        IEnumerable<IBusObserver> observers,
        ILoggerFactory? loggerFactory = null)
    {
        _options = options.Value;
        _time = time;
        Clock = MessageClock.For(time);
        DeadLetters = deadLetters;
        Delayed = new DelayedDeliveries(this, time, _options.ScheduledCapacity);
        Requests = new PendingRequests(_options.MaxPendingRequests);
        Logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Bus");
        Observers = Observers.Create(observers, Logger);
        _topology = new BusTopology(this, _options, transport, services);
    }

    public BusState State => _state;

    public IBusTopology Topology => _topology;

    internal ILogger Logger { get; }

    internal IdleMonitor Idle { get; } = new();

    /// <summary>The registered observers, or null when there are none.</summary>
    internal Observers? Observers { get; }

    internal BusOptions Options => _options;

    internal TimeProvider Time => _time;

    internal MessageClock Clock { get; }

    internal IDeadLetterStore DeadLetters { get; }

    internal DelayedDeliveries Delayed { get; }

    internal PendingRequests Requests { get; }

    public ValueTask PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(message, null, null, null, null, null, cancellationToken);

    public ValueTask PublishAsync<TMessage>(TMessage message, string routingKey, CancellationToken cancellationToken = default)
    {
        if (routingKey is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(routingKey));
        }

        return PublishCoreAsync(message, null, routingKey, null, null, null, cancellationToken);
    }

    public ValueTask PublishAsync<TMessage>(TMessage message, PublishOptions? options, CancellationToken cancellationToken = default) =>
        PublishCoreAsync(message, options, null, null, null, null, cancellationToken);

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
        var pending = new PendingRequest<TResponse>(typeof(TRequest));
        if (!Requests.TryAdd(requestId, pending))
        {
            throw new InvalidOperationException(
                $"{_options.MaxPendingRequests} requests are already waiting for responses (BusOptions.MaxPendingRequests); {typeof(TRequest)} was not sent.");
        }

        try
        {
            var options = new PublishOptions { MessageId = requestId, Mandatory = true, Headers = s_requestHeaders };
            await PublishCoreAsync(request, options, null, null, null, null, cancellationToken).ConfigureAwait(false);
            return await pending.Response.WaitAsync(timeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException) when (!pending.Response.IsCompleted)
        {
            throw new RequestTimeoutException(typeof(TRequest), timeout);
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

        var origin = QueueWorker.Current;
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

        var exchange = options?.Exchange is { } named ? _topology.GetExchange(named) : _topology.GetMessageExchange<TMessage>();
        var messageId = options?.MessageId ?? MessageIdGenerator.Next(Clock.UtcNow());

        // Stamped with its due time: that is when it is sent into the queues, and its time to live counts from then.
        var envelope = new Envelope(
            message,
            typeof(TMessage),
            messageId,
            options?.CorrelationId ?? origin?.CurrentCorrelationId ?? messageId,
            deliverAt,
            exchange.Name,
            routingKey,
            options?.Headers is { } given ? MessageHeaders.Copy(given, nameof(options)) : null,
            deliveryCount: 1,
            options?.TimeToLive,
            options?.Priority ?? 0);
        return Delayed.TrySchedulePublish(exchange, envelope, deliverAt) switch
        {
            ScheduleResult.Scheduled => Task.FromResult(messageId),
            ScheduleResult.Full => throw new InvalidOperationException(
                $"{_options.ScheduledCapacity} messages are already scheduled (BusOptions.ScheduledCapacity); {typeof(TMessage)} was not scheduled."),
            _ => throw new BusNotRunningException(typeof(TMessage), BusState.Stopping),
        };
    }

    public IReadOnlyList<ScheduledMessage> GetScheduledMessages() => Delayed.ListPublishes();

    public bool CancelScheduled(Guid messageId) => Delayed.CancelPublish(messageId);

    /// <summary>Routes a scheduled message that came due into its queues, without waiting (see <see cref="BusQueue.AcceptScheduled"/>).</summary>
    internal void PublishScheduled(Exchange exchange, in Envelope envelope)
    {
        var route = exchange.Route(new RoutingContext(envelope.MessageType, envelope.RoutingKey, envelope.Headers));
        if (route.Length == 0)
        {
            Interlocked.Increment(ref _unroutable);
            Log.ScheduledUnroutable(Logger, envelope.MessageId, envelope.MessageType, exchange.Name, envelope.RoutingKey);
            return;
        }

        Observers?.Published(envelope);
        foreach (var queue in route)
        {
            queue.AcceptScheduled(envelope);
        }
    }

    /// <summary>Ends a message in the dead-letter store with its reason, logs it, and fails a requester waiting for it.</summary>
    internal async ValueTask DeadLetterAsync(string queue, Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts)
    {
        var now = _time.GetUtcNow();
        var firstFailedAt = envelope.Headers.TryGetValue(RetryHeaders.FirstFailedAt, out var first) && first is DateTimeOffset at ? at : now;
        var deadLetter = new DeadLetter(
            MessageIdGenerator.Next(now),
            envelope,
            queue,
            reason,
            description,
            exception is null ? null : ErrorInfo.From(exception),
            attempts,
            firstFailedAt,
            now);
        Log.DeadLettered(Logger, exception, envelope.MessageId, envelope.MessageType, queue, reason, description);
        await DeadLetters.AddAsync(deadLetter).ConfigureAwait(false);
        Observers?.DeadLettered(deadLetter);
        Requests.Fault(deadLetter);
    }

    public ValueTask SendAsync<TMessage>(string queue, TMessage message, CancellationToken cancellationToken = default) =>
        SendAsync(queue, message, null, cancellationToken);

    public ValueTask SendAsync<TMessage>(string queue, TMessage message, PublishOptions? options, CancellationToken cancellationToken = default)
    {
        if (queue is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(queue));
        }

        return PublishCoreAsync(message, options, null, queue, null, null, cancellationToken);
    }

    /// <summary>
    /// The publish path: check, route, stamp the envelope, enqueue into every destination. It completes synchronously
    /// and allocates nothing when every queue has room. A <paramref name="routingKey"/> given apart from the options
    /// wins; a <paramref name="queue"/> sends point-to-point; <paramref name="origin"/> is the worker of the consumer
    /// publishing, if any.
    /// </summary>
    internal ValueTask PublishCoreAsync<TMessage>(
        TMessage message,
        PublishOptions? options,
        string? routingKey,
        string? queue,
        Guid? correlationId,
        QueueWorker? origin,
        CancellationToken cancellationToken)
    {
        if (message is null)
        {
            ThrowHelper.ThrowArgumentNull(nameof(message));
        }

        origin ??= QueueWorker.Current;
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

        var headers = options?.Headers is { } given ? MessageHeaders.Copy(given, nameof(options)) : null;
        BusQueue[] route;
        string exchangeName;
        if (queue is not null)
        {
            if (options?.Exchange is not null)
            {
                ThrowHelper.ThrowExchangeWithQueue();
            }

            route = _topology.GetQueueRoute(queue);
            exchangeName = string.Empty;
        }
        else
        {
            var exchange = options?.Exchange is { } named ? _topology.GetExchange(named) : _topology.GetMessageExchange<TMessage>();
            route = exchange.Route(new RoutingContext(typeof(TMessage), routingKey, headers ?? MessageHeaders.Empty));
            exchangeName = exchange.Name;
            if (route.Length == 0)
            {
                return Unroutable(typeof(TMessage), exchangeName, routingKey, options?.Mandatory == true);
            }
        }

        var now = Clock.UtcNow();
        var messageId = options?.MessageId ?? MessageIdGenerator.Next(now);
        var envelope = new Envelope(
            message,
            typeof(TMessage),
            messageId,
            options?.CorrelationId ?? correlationId ?? origin?.CurrentCorrelationId ?? messageId,
            now,
            exchangeName,
            routingKey,
            headers,
            deliveryCount: 1,
            options?.TimeToLive,
            options?.Priority ?? 0);

        for (var i = 0; i < route.Length; i++)
        {
            var status = route[i].TryEnqueue(envelope, origin);
            if (status != EnqueueStatus.Accepted)
            {
                return DeliverSlowAsync(route, i, status, envelope, origin, cancellationToken);
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
    private async ValueTask DeliverSlowAsync(BusQueue[] route, int index, EnqueueStatus status, Envelope envelope, QueueWorker? origin, CancellationToken cancellationToken)
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

                // A queue deleted after routing simply no longer takes messages (as in RabbitMQ); a queue closed by the
                // stop refuses the publish.
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

    private ValueTask Unroutable(Type messageType, string exchange, string routingKey, bool mandatory)
    {
        Interlocked.Increment(ref _unroutable);
        Log.Unroutable(Logger, messageType, exchange, routingKey);
        return mandatory
            ? ValueTask.FromException(new UnroutableMessageException(messageType, exchange, routingKey))
            : default;
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
            _state = BusState.Running;
        }

        _topology.StartWorkers();
        Log.Started(Logger, _topology.QueueList.Length, _topology.ExchangeCount);
        return Task.CompletedTask;
    }

    public Task<DrainReport> StopAsync(CancellationToken cancellationToken = default)
    {
        lock (_stateLock)
        {
            if (_stopping is null)
            {
                var wasRunning = _state == BusState.Running;
                _state = wasRunning ? BusState.Stopping : BusState.Stopped;
                _stopping = wasRunning ? StopRunningAsync(cancellationToken) : Task.FromResult(CloseWithoutConsumers());
            }

            return _stopping;
        }
    }

    public Task WaitForIdleAsync(CancellationToken cancellationToken = default) =>
        Idle.WaitAsync(static topology => topology.IsIdle(includeWaiting: false), _topology, cancellationToken);

    public async Task<bool> ReplayAsync(Guid deadLetterId, string? queue = null, CancellationToken cancellationToken = default)
    {
        if (_state != BusState.Running)
        {
            throw new BusNotRunningException("Cannot replay a dead letter: the bus is not running.");
        }

        var deadLetter = await DeadLetters.GetAsync(deadLetterId, cancellationToken).ConfigureAwait(false);
        if (deadLetter is null)
        {
            return false;
        }

        var target = _topology.GetQueueRoute(queue ?? deadLetter.Queue)[0];

        // Removed first, so two concurrent replays cannot both deliver it; put back if the delivery does not happen.
        if (!await DeadLetters.RemoveAsync(deadLetterId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var envelope = deadLetter.Envelope.WithDeliveryCount(1).WithHeaders(MessageHeaders.With(deadLetter.Envelope.Headers, RetryHeaders.FirstFailedAt, null));
        try
        {
            var status = target.TryEnqueue(envelope, origin: null);
            if (status == EnqueueStatus.Full)
            {
                status = await target.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
            }

            if (status != EnqueueStatus.Accepted)
            {
                throw new QueueFullException(target.Name, envelope.MessageType, $"Queue '{target.Name}' did not accept the replayed message ({status}); it stays in the dead-letter store.");
            }
        }
        catch
        {
            await DeadLetters.AddAsync(deadLetter, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        Log.Replayed(Logger, deadLetterId, envelope.MessageId, target.Name);
        return true;
    }

    public async Task<int> ReplayAsync(DeadLetterQuery query, string? queue = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var replayed = 0;
        foreach (var deadLetter in await DeadLetters.QueryAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (await ReplayAsync(deadLetter.Id, queue, cancellationToken).ConfigureAwait(false))
            {
                replayed++;
            }
        }

        return replayed;
    }

    public BusStatistics GetStatistics()
    {
        var queues = _topology.QueueList;
        var statistics = new QueueStatistics[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            statistics[i] = queues[i].GetStatistics();
        }

        return new BusStatistics(Volatile.Read(ref _unroutable), DeadLetters.Count, (DeadLetters as InMemoryDeadLetterStore)?.Evicted ?? 0, statistics);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            await StopAsync(CancellationToken.None).ConfigureAwait(false);
            Delayed.Dispose();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private async Task<DrainReport> StopRunningAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(Logger, _options.StopTimeout);
        var stoppingSince = _time.GetUtcNow();
        var drained = await DrainAsync(cancellationToken).ConfigureAwait(false);

        // Refuse every publish, consumers' too, before any queue closes: a publish into a closed queue must fail
        // loudly, not vanish.
        lock (_stateLock)
        {
            _state = BusState.Stopped;
        }

        var waiting = Delayed.CloseAndTakeAll();
        var queues = _topology.QueueList;
        foreach (var queue in queues)
        {
            if (drained)
            {
                queue.Close();
            }
            else
            {
                queue.Abort();
            }
        }

        // Consumers that ignore their cancelled token get until twice the stop timeout; then the report takes their
        // messages. The deadline counts from the start of the stop, so it does not depend on how long the drain took.
        var workers = new Task[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            workers[i] = queues[i].WhenWorkersStopped();
        }

        var graceLeft = _options.StopTimeout == Timeout.InfiniteTimeSpan
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Max(0, (stoppingSince + _options.StopTimeout + _options.StopTimeout - _time.GetUtcNow()).Ticks));
        using var grace = new CancellationTokenSource(graceLeft, _time);
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(grace.Token, cancellationToken);
        try
        {
            await Task.WhenAll(workers).WaitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            foreach (var queue in queues)
            {
                queue.Abort();
            }
        }

        return await ReportAsync(drained, queues, waiting).ConfigureAwait(false);
    }

    private async Task<bool> DrainAsync(CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(_options.StopTimeout, _time);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await Idle.WaitAsync(static topology => topology.IsIdle(includeWaiting: true), _topology, drain.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>The queue name reports and dead letters give a scheduled message that was never routed.</summary>
    internal const string ScheduledQueueName = "(scheduled)";

    private async ValueTask DeadLetterScheduledAsync(UnprocessedMessage message, string description)
    {
        try
        {
            await DeadLetterAsync(ScheduledQueueName, message.Envelope, DeadLetterReason.BusStopped, description, null, 0).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.DeliveryBroke(Logger, exception, message.Envelope.MessageId, message.Envelope.MessageType, ScheduledQueueName);
        }
    }

    /// <summary>A bus stopped before it started: nothing could have been published, so nothing is left.</summary>
    private DrainReport CloseWithoutConsumers()
    {
        foreach (var queue in _topology.QueueList)
        {
            queue.Close();
        }

        return new DrainReport(drained: true, []);
    }

    /// <summary>Reports, logs and dead-letters (reason <see cref="DeadLetterReason.BusStopped"/>) what was not processed.</summary>
    private async Task<DrainReport> ReportAsync(bool drained, BusQueue[] queues, List<DelayedDeliveries.Entry> waiting)
    {
        var left = new List<(BusQueue? Queue, UnprocessedMessage Message)>();
        foreach (var entry in waiting)
        {
            var queue = entry.Queue?.Name ?? ScheduledQueueName;
            left.Add((entry.Queue, new UnprocessedMessage(queue, entry.Envelope, wasInFlight: false)));
        }

        foreach (var queue in queues)
        {
            foreach (var message in await queue.CollectUnprocessedAsync().ConfigureAwait(false))
            {
                left.Add((queue, message));
            }
        }

        foreach (var group in left.GroupBy(l => l.Message.Queue, StringComparer.Ordinal))
        {
            Log.UnprocessedInQueue(Logger, group.Key, group.Count());
        }

        var unprocessed = new List<UnprocessedMessage>(left.Count);
        foreach (var (queue, message) in left)
        {
            const string Description = "the bus stopped before it was processed";
            if (queue is not null)
            {
                await queue.DeadLetterUnprocessedAsync(message, DeadLetterReason.BusStopped, Description).ConfigureAwait(false);
            }
            else
            {
                await DeadLetterScheduledAsync(message, Description).ConfigureAwait(false);
            }

            unprocessed.Add(message);
        }

        if (unprocessed.Count == 0)
        {
            Log.StoppedDrained(Logger);
        }
        else
        {
            Log.StoppedWithUnprocessed(Logger, unprocessed.Count);
        }

        return new DrainReport(drained && unprocessed.Count == 0, unprocessed);
    }
}
