namespace Bus;

/// <summary>
/// One competing consumer of a queue: a loop that takes up to <see cref="QueueOptions.PrefetchCount"/> messages and
/// delivers them one at a time.
/// </summary>
/// <remarks>
/// The loop is a single long-lived async method, so its state machine is allocated once, not per message. It records
/// itself in an <see cref="AsyncLocal{T}"/> once at start; everything a consumer does inherits that, which is how a
/// publish through an injected <see cref="IPublisher"/> knows it comes from a consumer and must not wait for room.
/// Counters are written by this worker only and read by others, so they need no interlocked operations.
/// </remarks>
internal sealed class QueueWorker
{
    private static readonly AsyncLocal<QueueWorker?> s_current = new();

    private readonly BusQueue _queue;
    private readonly Envelope[] _prefetched;
    private MessageHandler[] _handlers = [];
    private Envelope _inFlight;
    private volatile bool _busy;
    private long _consumed;
    private long _faulted;

    public QueueWorker(BusQueue queue)
    {
        _queue = queue;
        _prefetched = new Envelope[queue.Options.PrefetchCount];
    }

    /// <summary>The worker whose consumer the calling code runs in, or null outside consumers.</summary>
    public static QueueWorker? Current => s_current.Value;

    public BusQueue Queue => _queue;

    public MessageBus Bus => _queue.Bus;

    public Task Completion { get; private set; } = Task.CompletedTask;

    public long Consumed => Volatile.Read(ref _consumed);

    public long Faulted => Volatile.Read(ref _faulted);

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public Guid? CurrentCorrelationId => _busy ? _inFlight.CorrelationId : null;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>
    /// The message a consumer is still working on. Read only once the worker failed to stop, when it is stuck inside
    /// the consumer and no longer writes the field.
    /// </summary>
    public bool TryGetInFlight(out Envelope envelope)
    {
        envelope = _inFlight;
        return _busy;
    }

    private async Task RunAsync()
    {
        s_current.Value = this;
        var cancellationToken = _queue.ConsumerToken;
        var next = 0;
        var count = 0;
        try
        {
            while (!_queue.IsAborted)
            {
                if (next == count)
                {
                    next = 0;
                    count = Prefetch();
                    if (count == 0)
                    {
                        if (await _queue.WaitToTakeAsync().ConfigureAwait(false))
                        {
                            continue;
                        }

                        // The storage is completed; the overflow may still hold the last messages.
                        count = Prefetch();
                        if (count == 0)
                        {
                            return;
                        }
                    }
                }

                _inFlight = _prefetched[next];
                _prefetched[next++] = default;
                _busy = true;
                MessageHandler? handler = null;
                try
                {
                    handler = GetHandler(_inFlight.MessageType);
                    if (handler is null)
                    {
                        _queue.OnFaulted(_inFlight, null, new InvalidOperationException($"Queue '{_queue.Name}' has no consumer for {_inFlight.MessageType}."));
                        Volatile.Write(ref _faulted, _faulted + 1);
                    }
                    else
                    {
                        await handler.HandleAsync(_inFlight, cancellationToken).ConfigureAwait(false);
                        Volatile.Write(ref _consumed, _consumed + 1);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopped past the drain timeout: the message was not processed, and the stop report says so.
                    _queue.ReturnUnprocessed([_inFlight], wereInFlight: true);
                }
                catch (Exception exception)
                {
                    _queue.OnFaulted(_inFlight, handler?.ConsumerType, exception);
                    Volatile.Write(ref _faulted, _faulted + 1);
                }

                _busy = false;
                _inFlight = default;
                _queue.NotifyIfIdle();
            }
        }
        finally
        {
            if (next < count)
            {
                _queue.ReturnUnprocessed(_prefetched.AsSpan(next, count - next), wereInFlight: false);
            }
        }
    }

    private int Prefetch()
    {
        var count = 0;
        while (count < _prefetched.Length && _queue.TryTake(out _prefetched[count]))
        {
            count++;
        }

        return count;
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
