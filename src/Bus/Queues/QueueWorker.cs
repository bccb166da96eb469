using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// One competing consumer of a queue: takes messages (up to <see cref="QueueOptions.PrefetchCount"/> at once) and
/// delivers them one at a time: expired ones and duplicates are set aside, failures go to the retry policy and, when it
/// gives up, to the dead-letter store.
/// </summary>
/// <remarks>
/// <para>
/// Messages are taken and delivered in a synchronous loop for as long as consumers succeed synchronously; only a
/// consumer that really awaits, a failure, or an empty queue brings the worker back to its async loop. The envelope then
/// lives on the stack and in the consumer's context alone, which matters because every copy of an envelope into the
/// heap costs a write barrier per reference it holds. The slow paths use pooled async state machines.
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
    private const int Idle = 0;
    private const int InFlight = 1;
    private const int TakenOver = 2;

    private static readonly AsyncLocal<QueueWorker?> s_current = new();

    private readonly BusQueue _queue;
    private readonly QueueLane _lane;
    private readonly Envelope[]? _prefetched;
    private int _prefetchedNext;
    private int _prefetchedCount;
    private MessageHandler[] _handlers = [];
    private MessageHandler? _current;
    private CancellationTokenSource? _timeoutCancellation;
    private ValueTask _pending;
    private Envelope _pendingEnvelope;
    private Envelope _retryNow;
    private bool _hasRetryNow;

    // 0: no delivery; 1: a consumer is working on _current's message; 2: the stop report has taken that message over.
    // Ending a delivery and taking it over both go through CompareExchange, so exactly one of them decides its outcome.
    private int _inFlight;
    private long _consumed;
    private long _duplicates;
    private long _deadLettered;
    private long _retriesScheduled;
    private long _faulted;
    private long _retried;
    private long _expired;

    public QueueWorker(BusQueue queue, QueueLane lane)
    {
        _queue = queue;
        _lane = lane;
        if (queue.Options.PrefetchCount > 1)
        {
            _prefetched = new Envelope[queue.Options.PrefetchCount];
        }

        if (queue.Options.ConsumerTimeout is not null)
        {
            _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(queue.ConsumerToken);
        }
    }

    /// <summary>The worker whose consumer the calling code runs in, or null outside consumers.</summary>
    public static QueueWorker? Current => s_current.Value;

    public BusQueue Queue => _queue;

    public MessageBus Bus => _queue.Bus;

    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Messages this worker ended: consumed, skipped as duplicates, or dead-lettered.</summary>
    public long Finished => Volatile.Read(ref _consumed) + Volatile.Read(ref _duplicates) + Volatile.Read(ref _deadLettered);

    public long RetriesScheduled => Volatile.Read(ref _retriesScheduled);

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public Guid? CurrentCorrelationId => Volatile.Read(ref _inFlight) == InFlight ? _current?.Context.CorrelationId : null;

    public void Start() => Completion = Task.Run(RunAsync);

    /// <summary>
    /// Takes over the message a consumer is still working on after the stop gave up waiting: whatever the consumer does
    /// later, the stop report decides this message's outcome.
    /// </summary>
    public bool TryTakeOverInFlight(out Envelope envelope)
    {
        var current = _current;
        envelope = current?.Context.Envelope ?? default;
        return current is not null && Interlocked.CompareExchange(ref _inFlight, TakenOver, InFlight) == InFlight;
    }

    public void AddTo(QueueStatistics statistics)
    {
        statistics.Consumed += Volatile.Read(ref _consumed);
        statistics.Duplicates += Volatile.Read(ref _duplicates);
        statistics.DeadLettered += Volatile.Read(ref _deadLettered);
        statistics.Faulted += Volatile.Read(ref _faulted);
        statistics.Retried += Volatile.Read(ref _retried);
        statistics.Expired += Volatile.Read(ref _expired);
    }

    private async Task RunAsync()
    {
        s_current.Value = this;
        try
        {
            while (!_queue.IsAborted)
            {
                if (DeliverAvailable())
                {
                    // A consumer went asynchronous, or a failure needs handling: wait here, where waiting costs no thread.
                    try
                    {
                        await _pending.ConfigureAwait(false);
                    }
                    catch (Exception exception)
                    {
                        OnInternalError(_pendingEnvelope, exception);
                    }

                    continue;
                }

                if (!await _lane.WaitToTakeAsync().ConfigureAwait(false) && !HasPrefetched && !_lane.HasParked)
                {
                    return;
                }
            }
        }
        finally
        {
            if (_hasRetryNow)
            {
                _hasRetryNow = false;
                _queue.ReturnUnprocessed([_retryNow], wereInFlight: false);
            }

            ReturnPrefetched();
        }
    }

    private bool HasPrefetched => _prefetchedNext < _prefetchedCount;

    /// <summary>
    /// Delivers messages while there are some and their deliveries complete synchronously. Returns true when one is
    /// still running; it is in <see cref="_pending"/>.
    /// </summary>
    private bool DeliverAvailable()
    {
        while (!_queue.IsAborted && TryNext(out var envelope))
        {
            try
            {
                var delivery = Deliver(envelope);
                if (!delivery.IsCompletedSuccessfully)
                {
                    _pending = delivery;
                    _pendingEnvelope = envelope;
                    return true;
                }

                delivery.GetAwaiter().GetResult();
            }
            catch (Exception exception)
            {
                OnInternalError(envelope, exception);
            }
        }

        return false;
    }

    /// <summary>The next message: an immediate retry first, then the queue.</summary>
    private bool TryNext(out Envelope envelope)
    {
        if (_hasRetryNow)
        {
            _hasRetryNow = false;
            envelope = _retryNow;
            _retryNow = default;
            return true;
        }

        return TryTake(out envelope);
    }

    /// <summary>
    /// The bus itself failed while ending a delivery (a dead-letter store or retry policy of the application threw).
    /// The worker lives on; the message stays pending and is reported when the bus stops, never dropped.
    /// </summary>
    private void OnInternalError(in Envelope envelope, Exception exception)
    {
        Log.DeliveryBroke(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, _queue.Name);
        if (TryEndDelivery() || Volatile.Read(ref _inFlight) == Idle)
        {
            _queue.ReturnUnprocessed([envelope], wereInFlight: true);
        }
    }

    /// <summary>Ends the current delivery; false when the stop report took it over, and its outcome is no longer ours.</summary>
    private bool TryEndDelivery() => Interlocked.CompareExchange(ref _inFlight, Idle, InFlight) == InFlight;

    /// <summary>One delivery, start to end; never throws.</summary>
    private ValueTask Deliver(in Envelope envelope)
    {
        if (IsExpired(envelope))
        {
            Volatile.Write(ref _expired, _expired + 1);
            return DeadLetterAsync(envelope, DeadLetterReason.Expired, "its time to live ran out before delivery", null, envelope.DeliveryCount - 1);
        }

        var handler = GetHandler(envelope.MessageType);
        if (handler is null)
        {
            return DeadLetterAsync(envelope, DeadLetterReason.NoConsumer, $"queue '{_queue.Name}' has no consumer for {envelope.MessageType}", null, envelope.DeliveryCount - 1);
        }

        if (_queue.Deduplication is { } window && !window.TryBegin(envelope.MessageId))
        {
            Log.DuplicateSkipped(Bus.Logger, envelope.MessageId, envelope.MessageType, _queue.Name);
            Volatile.Write(ref _duplicates, _duplicates + 1);
            _queue.NotifyIfIdle();
            return default;
        }

        if (_current != handler)
        {
            _current = handler;
        }

        // A full fence, then a last look at the abort flag: a stop that found this worker idle waits for it to finish,
        // so it must not start a consumer that might never return; a stop that comes later takes the message over.
        Interlocked.Exchange(ref _inFlight, InFlight);
        if (_queue.IsAborted)
        {
            if (TryEndDelivery())
            {
                _queue.ReturnUnprocessed([envelope], wereInFlight: false);
            }

            return default;
        }

        // The deadline is set before the consumer starts, so it runs from the start of the delivery.
        var deadline = _queue.Options.ConsumerTimeout is { } timeout ? new Deadline(Bus.Time, timeout) : null;
        ValueTask consumed;
        try
        {
            consumed = handler.HandleAsync(envelope, _timeoutCancellation?.Token ?? _queue.ConsumerToken);
        }
        catch (Exception exception)
        {
            deadline?.Dispose();
            return FailAsync(handler, envelope, exception, timedOut: false);
        }

        if (!consumed.IsCompletedSuccessfully)
        {
            return AwaitConsumerAsync(consumed, handler, envelope, deadline);
        }

        deadline?.Dispose();
        consumed.GetAwaiter().GetResult();
        return Succeeded(handler, envelope);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitConsumerAsync(ValueTask consumed, MessageHandler handler, Envelope envelope, Deadline? deadline)
    {
        try
        {
            if (deadline is null)
            {
                await consumed.ConfigureAwait(false);
            }
            else
            {
                var running = consumed.AsTask();
                await Task.WhenAny(running, deadline.Passed).ConfigureAwait(false);
                if (!running.IsCompleted)
                {
                    Abandon(handler, envelope, deadline.Timeout);
                    await FailAsync(handler, envelope, new TimeoutException($"The consumer did not finish within {deadline.Timeout}."), timedOut: true).ConfigureAwait(false);
                    return;
                }

                await running.ConfigureAwait(false);
            }
        }
        catch (Exception exception)
        {
            await FailAsync(handler, envelope, exception, timedOut: false).ConfigureAwait(false);
            return;
        }
        finally
        {
            deadline?.Dispose();
        }

        await Succeeded(handler, envelope).ConfigureAwait(false);
    }

    private ValueTask Succeeded(MessageHandler handler, in Envelope envelope)
    {
        if (!TryEndDelivery())
        {
            return default;
        }

        if (handler.Context.TakeRejection() is { } reason)
        {
            _queue.Deduplication?.Abandon(envelope.MessageId);
            return DeadLetterAsync(envelope, DeadLetterReason.Rejected, reason, null, envelope.DeliveryCount);
        }

        _queue.Deduplication?.Complete(envelope.MessageId);
        Volatile.Write(ref _consumed, _consumed + 1);
        _queue.NotifyIfIdle();
        return default;
    }

    /// <summary>A failed delivery: rejected, retried (now, or later outside the worker), or dead-lettered.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FailAsync(MessageHandler handler, Envelope envelope, Exception exception, bool timedOut)
    {
        if (!TryEndDelivery())
        {
            return;
        }

        var rejection = handler.Context.TakeRejection();
        _queue.Deduplication?.Abandon(envelope.MessageId);
        if (exception is OperationCanceledException && _queue.ConsumerToken.IsCancellationRequested)
        {
            // Stopped past the drain timeout: the message was not processed, and the stop report says so.
            _queue.ReturnUnprocessed([envelope], wereInFlight: true);
            return;
        }

        Volatile.Write(ref _faulted, _faulted + 1);
        if (rejection is not null || exception is MessageRejectedException)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.Rejected, rejection ?? exception.Message, exception, envelope.DeliveryCount).ConfigureAwait(false);
            return;
        }

        RetryDecision decision;
        try
        {
            decision = handler.RetryPolicy.Decide(new RetryContext(exception, envelope, _queue.Name));
        }
        catch (Exception policyError)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.MaxRetriesExceeded, $"the retry policy threw {policyError.GetType().Name}: {policyError.Message}", exception, envelope.DeliveryCount).ConfigureAwait(false);
            return;
        }

        if (!decision.ShouldRetry)
        {
            var reason = timedOut ? DeadLetterReason.ConsumerTimeout : decision.Reason;
            var description = reason switch
            {
                DeadLetterReason.NotRetryable => $"{exception.GetType().Name} is not retried",
                DeadLetterReason.ConsumerTimeout => exception.Message,
                _ => $"failed {envelope.DeliveryCount} time(s): {exception.Message}",
            };
            await DeadLetterAsync(envelope, reason, description, exception, envelope.DeliveryCount).ConfigureAwait(false);
            return;
        }

        Volatile.Write(ref _retried, _retried + 1);
        Log.RetryScheduled(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, envelope.DeliveryCount, _queue.Name, decision.Delay);
        var next = NextAttempt(envelope);
        if (decision.Delay == TimeSpan.Zero)
        {
            // Delivered next by the worker's loop, not from here: a long run of immediate retries must not deepen the stack.
            _retryNow = next;
            _hasRetryNow = true;
            return;
        }

        switch (Bus.Delayed.TrySchedule(_queue, next, decision.Delay))
        {
            case ScheduleResult.Scheduled:
                Volatile.Write(ref _retriesScheduled, _retriesScheduled + 1);
                _queue.NotifyIfIdle();
                break;
            case ScheduleResult.Full:
                await DeadLetterAsync(envelope, DeadLetterReason.Overflow, $"the retry schedule is full ({Bus.Options.ScheduledCapacity} messages)", exception, envelope.DeliveryCount).ConfigureAwait(false);
                break;
            default:
                // The bus is stopping and its schedule is closed: the stop report takes the message.
                _queue.ReturnUnprocessed([next], wereInFlight: false);
                break;
        }
    }

    private Envelope NextAttempt(in Envelope envelope)
    {
        var next = envelope.WithDeliveryCount(envelope.DeliveryCount + 1);
        return envelope.Headers.ContainsKey(RetryHeaders.FirstFailedAt)
            ? next
            : next.WithHeaders(MessageHeaders.With(envelope.Headers, RetryHeaders.FirstFailedAt, Bus.Time.GetUtcNow()));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DeadLetterAsync(Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts)
    {
        await _queue.DeadLetterAsync(envelope, reason, description, exception, attempts).ConfigureAwait(false);
        Volatile.Write(ref _deadLettered, _deadLettered + 1);
        _queue.NotifyIfIdle();
    }

    /// <summary>
    /// Gives up on a consumer that overran its time: cancels its token and forgets its handler, whose context the
    /// abandoned consumer may still be using, so the next message gets a fresh one.
    /// </summary>
    private void Abandon(MessageHandler handler, in Envelope envelope, TimeSpan timeout)
    {
        Log.ConsumerTimedOut(Bus.Logger, handler.ConsumerType, envelope.MessageId, _queue.Name, timeout);
        var overrun = _timeoutCancellation!;
        _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(_queue.ConsumerToken);
        overrun.Cancel();

        // Disposing unlinks it from the queue's token; the consumer's token stays cancelled.
        overrun.Dispose();
        _handlers = Array.FindAll(_handlers, h => h != handler);
        _current = null;
    }

    /// <summary>A consumer's time limit for one delivery: a timer of the bus's clock that completes <see cref="Passed"/>.</summary>
    private sealed class Deadline : IDisposable
    {
        private readonly TaskCompletionSource _passed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ITimer _timer;

        public Deadline(TimeProvider time, TimeSpan timeout)
        {
            Timeout = timeout;
            _timer = time.CreateTimer(static state => ((Deadline)state!)._passed.TrySetResult(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
        }

        public TimeSpan Timeout { get; }

        public Task Passed => _passed.Task;

        public void Dispose() => _timer.Dispose();
    }

    private bool IsExpired(in Envelope envelope)
    {
        var own = envelope.TimeToLiveMilliseconds;
        var queue = _queue.TimeToLiveMilliseconds;
        if ((own | queue) == 0)
        {
            return false;
        }

        var limit = own == 0 ? queue : queue == 0 ? own : Math.Min(own, queue);
        return Bus.Clock.UtcNow().UtcTicks >= envelope.TimestampTicks + (limit * TimeSpan.TicksPerMillisecond);
    }

    private bool TryTake(out Envelope envelope)
    {
        if (_prefetched is null)
        {
            return _lane.TryTake(out envelope);
        }

        if (!HasPrefetched)
        {
            _prefetchedNext = 0;
            _prefetchedCount = 0;
            while (_prefetchedCount < _prefetched.Length && _lane.TryTake(out _prefetched[_prefetchedCount]))
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
