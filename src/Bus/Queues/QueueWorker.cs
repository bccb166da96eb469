namespace Bus;

/// <summary>
/// One competing consumer of a queue: takes messages (up to <see cref="QueueOptions.PrefetchCount"/> at once) and
/// delivers them one at a time.
/// </summary>
/// <remarks>
/// <para>
/// Messages are taken and delivered in a synchronous loop for as long as consumers complete synchronously; only a
/// consumer that really awaits, or an empty queue, brings the worker back to its async loop. The envelope then lives
/// on the stack and in the consumer's context alone, which matters because every copy of an envelope into the heap
/// costs a write barrier per reference it holds.
/// </para>
/// <para>
/// The async loop is one long-lived method, so its state machine is allocated once. It records the worker in an
/// <see cref="AsyncLocal{T}"/> once at start; everything a consumer does inherits that, which is how a publish through
/// an injected <see cref="IPublisher"/> knows it comes from a consumer and must not wait for room. Counters are written
/// by this worker only and read by others, so they need no interlocked operations.
/// </para>
/// </remarks>
internal sealed class QueueWorker
{
    private static readonly AsyncLocal<QueueWorker?> s_current = new();

    private readonly BusQueue _queue;
    private readonly Envelope[]? _prefetched;
    private int _prefetchedNext;
    private int _prefetchedCount;
    private MessageHandler[] _handlers = [];
    private MessageHandler? _current;
    private ValueTask _pending;
    private volatile bool _busy;
    private long _consumed;
    private long _faulted;

    public QueueWorker(BusQueue queue)
    {
        _queue = queue;
        if (queue.Options.PrefetchCount > 1)
        {
            _prefetched = new Envelope[queue.Options.PrefetchCount];
        }
    }

    /// <summary>The worker whose consumer the calling code runs in, or null outside consumers.</summary>
    public static QueueWorker? Current => s_current.Value;

    public BusQueue Queue => _queue;

    public MessageBus Bus => _queue.Bus;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public long Consumed => Volatile.Read(ref _consumed);

    public long Faulted => Volatile.Read(ref _faulted);

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public Guid? CurrentCorrelationId => _busy ? _current?.Context.CorrelationId : null;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>
    /// The message a consumer is still working on. Read only once the worker failed to stop, when it is stuck inside
    /// the consumer and no longer changes its state.
    /// </summary>
    public bool TryGetInFlight(out Envelope envelope)
    {
        var current = _current;
        envelope = current?.Context.Envelope ?? default;
        return _busy && current is not null;
    }

    private async Task RunAsync()
    {
        s_current.Value = this;
        var cancellationToken = _queue.ConsumerToken;
        try
        {
            while (!_queue.IsAborted)
            {
                if (DeliverAvailable(cancellationToken))
                {
                    // A consumer went asynchronous: wait for it here, where waiting costs no thread.
                    try
                    {
                        await _pending.ConfigureAwait(false);
                        Succeeded();
                    }
                    catch (Exception exception)
                    {
                        Failed(exception, cancellationToken);
                    }

                    continue;
                }

                if (!await _queue.WaitToTakeAsync().ConfigureAwait(false) && !HasPrefetched && !_queue.HasParked)
                {
                    return;
                }
            }
        }
        finally
        {
            ReturnPrefetched();
        }
    }

    private bool HasPrefetched => _prefetchedNext < _prefetchedCount;

    /// <summary>
    /// Delivers messages while there are some and their consumers complete synchronously. Returns true when a
    /// consumer's task is still running; it is in <see cref="_pending"/>.
    /// </summary>
    private bool DeliverAvailable(CancellationToken cancellationToken)
    {
        while (!_queue.IsAborted && TryTake(out var envelope))
        {
            var handler = GetHandler(envelope.MessageType);
            if (handler is null)
            {
                _queue.OnFaulted(envelope, null, new InvalidOperationException($"Queue '{_queue.Name}' has no consumer for {envelope.MessageType}."));
                Volatile.Write(ref _faulted, _faulted + 1);
                _queue.NotifyIfIdle();
                continue;
            }

            if (_current != handler)
            {
                _current = handler;
            }

            _busy = true;
            ValueTask task;
            try
            {
                task = handler.HandleAsync(envelope, cancellationToken);
            }
            catch (Exception exception)
            {
                Failed(exception, cancellationToken);
                continue;
            }

            if (!task.IsCompleted)
            {
                _pending = task;
                return true;
            }

            try
            {
                task.GetAwaiter().GetResult();
                Succeeded();
            }
            catch (Exception exception)
            {
                Failed(exception, cancellationToken);
            }
        }

        return false;
    }

    private void Succeeded()
    {
        _busy = false;
        Volatile.Write(ref _consumed, _consumed + 1);
        _queue.NotifyIfIdle();
    }

    private void Failed(Exception exception, CancellationToken cancellationToken)
    {
        _busy = false;
        var envelope = _current!.Context.Envelope;
        if (exception is OperationCanceledException && cancellationToken.IsCancellationRequested)
        {
            // Stopped past the drain timeout: the message was not processed, and the stop report says so.
            _queue.ReturnUnprocessed([envelope], wereInFlight: true);
        }
        else
        {
            _queue.OnFaulted(envelope, _current.ConsumerType, exception);
            Volatile.Write(ref _faulted, _faulted + 1);
        }

        _queue.NotifyIfIdle();
    }

    private bool TryTake(out Envelope envelope)
    {
        if (_prefetched is null)
        {
            return _queue.TryTake(out envelope);
        }

        if (!HasPrefetched)
        {
            _prefetchedNext = 0;
            _prefetchedCount = 0;
            while (_prefetchedCount < _prefetched.Length && _queue.TryTake(out _prefetched[_prefetchedCount]))
            {
                _prefetchedCount++;
            }

            if (_prefetchedCount == 0)
            {
                envelope = default;
                return false;
            }
        }

        envelope = _prefetched[_prefetchedNext];
        _prefetched[_prefetchedNext++] = default;
        return true;
    }

    private void ReturnPrefetched()
    {
        if (HasPrefetched)
        {
            _queue.ReturnUnprocessed(_prefetched.AsSpan(_prefetchedNext, _prefetchedCount - _prefetchedNext), wereInFlight: false);
            _prefetchedNext = _prefetchedCount;
        }
    }

    private MessageHandler? GetHandler(Type messageType)
    {
        foreach (var handler in _handlers)
        {
            if (handler.MessageType == messageType)
            {
                return handler;
            }
        }

        return AddHandler(messageType);
    }

    private MessageHandler? AddHandler(Type messageType)
    {
        if (_queue.FindRegistration(messageType) is not { } registration)
        {
            return null;
        }

        var handler = registration.CreateHandler(this);
        _handlers = [.. _handlers, handler];
        return handler;
    }
}
