using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// A worker that delivers messages one at a time (up to <see cref="QueueOptions.PrefetchCount"/> taken at once):
/// expired ones and duplicates are set aside, failures go to the retry policy and, when it gives up, to the dead-letter
/// store.
/// </summary>
/// <remarks>
/// Messages are taken and delivered in a synchronous loop for as long as consumers succeed synchronously; only a
/// consumer that really awaits, a failure, or an empty queue brings the worker back to its async loop. The envelope then
/// lives on the stack and in the consumer's context alone, which matters because every copy of an envelope into the
/// heap costs a write barrier per reference it holds. The async loop is one long-lived method, so its state machine is
/// allocated once; the slow paths use pooled async state machines.
/// </remarks>
internal sealed class MessageWorker : QueueWorker
{
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

    public MessageWorker(BusQueue queue, QueueLane lane, int index)
        : base(queue, lane, index)
    {
        if (queue.Options.PrefetchCount > 1)
        {
            _prefetched = new Envelope[queue.Options.PrefetchCount];
        }

        if (queue.Options.ConsumerTimeout is not null)
        {
            _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(queue.ConsumerToken);
        }
    }

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public override Guid? CurrentCorrelationId => Volatile.Read(ref _inFlight) == InFlight ? _current?.Context.CorrelationId : null;

    public override bool TryTakeOverInFlight(List<UnprocessedMessage> into)
    {
        var current = _current;
        if (current is null || Interlocked.CompareExchange(ref _inFlight, TakenOver, InFlight) != InFlight)
        {
            return false;
        }

        into.Add(new UnprocessedMessage(Queue.Name, current.Context.Envelope, wasInFlight: true));
        return true;
    }

    protected override async Task RunAsync()
    {
        // This worker tells its lane when it is taking messages, so that the lane wakes another only when it is not.
        Lane.Resume();
        try
        {
            while (!Queue.IsAborted)
            {
                if (DeliverAvailable())
                {
                    // A consumer went asynchronous, or a failure needs handling: wait here, where waiting costs no thread,
                    // and let another worker take the messages meanwhile.
                    Lane.Pause(shareOut: true);
                    try
                    {
                        await _pending.ConfigureAwait(false);
                    }
                    catch (Exception exception)
                    {
                        OnInternalError(_pendingEnvelope, exception);
                    }
                    finally
                    {
                        Lane.Resume();
                    }

                    continue;
                }

                Lane.Pause(shareOut: false);
                bool more;
                try
                {
                    more = await Lane.WaitToTakeAsync().ConfigureAwait(false);
                }
                finally
                {
                    Lane.Resume();
                }

                if (!more && !HasPrefetched && !Lane.HasParked)
                {
                    return;
                }
            }
        }
        finally
        {
            Lane.Pause(shareOut: false);
            if (_hasRetryNow)
            {
                _hasRetryNow = false;
                Queue.ReturnUnprocessed([_retryNow], wereInFlight: false);
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
        while (!Queue.IsAborted && TryNext(out var envelope))
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
        Log.DeliveryBroke(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, Queue.Name);
        if (TryEndDelivery() || Volatile.Read(ref _inFlight) == Idle)
        {
            Queue.ReturnUnprocessed([envelope], wereInFlight: true);
        }
    }

    /// <summary>One delivery, start to end; never throws.</summary>
    private ValueTask Deliver(in Envelope envelope)
    {
        if (IsExpired(envelope))
        {
            return ExpireAsync(envelope);
        }

        var handler = GetHandler(envelope.MessageType);
        if (handler is null)
        {
            return DeadLetterAsync(envelope, DeadLetterReason.NoConsumer, $"queue '{Queue.Name}' has no consumer for {envelope.MessageType}", null, envelope.DeliveryCount - 1);
        }

        if (Queue.Deduplication is { } window && !window.TryBegin(envelope.MessageId))
        {
            Log.DuplicateSkipped(Bus.Logger, envelope.MessageId, envelope.MessageType, Queue.Name);
            Volatile.Write(ref _duplicates, _duplicates + 1);
            Queue.NotifyIfIdle();
            return default;
        }

        if (_current != handler)
        {
            _current = handler;
        }

        // A full fence, then a last look at the abort flag: a stop that found this worker idle waits for it to finish,
        // so it must not start a consumer that might never return; a stop that comes later takes the message over.
        Interlocked.Exchange(ref _inFlight, InFlight);
        if (Queue.IsAborted)
        {
            if (TryEndDelivery())
            {
                Queue.ReturnUnprocessed([envelope], wereInFlight: false);
            }

            return default;
        }

        // The deadline is set before the consumer starts, so it runs from the start of the delivery.
        var deadline = Queue.Options.ConsumerTimeout is { } timeout ? new Deadline(Bus.Time, timeout) : null;
        ValueTask consumed;
        try
        {
            consumed = handler.HandleAsync(envelope, _timeoutCancellation?.Token ?? Queue.ConsumerToken);
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
            Queue.Deduplication?.Abandon(envelope.MessageId);
            return DeadLetterAsync(envelope, DeadLetterReason.Rejected, reason, null, envelope.DeliveryCount);
        }

        Queue.Deduplication?.Complete(envelope.MessageId);
        CountConsumed(envelope, handler.ConsumerType);
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
        Queue.Deduplication?.Abandon(envelope.MessageId);
        if (exception is OperationCanceledException && Queue.ConsumerToken.IsCancellationRequested)
        {
            // Stopped past the drain timeout: the message was not processed, and the stop report says so.
            Queue.ReturnUnprocessed([envelope], wereInFlight: true);
            return;
        }

        if (await FailedAsync(handler.RetryPolicy, envelope, exception, rejection, timedOut).ConfigureAwait(false) is { } next)
        {
            _retryNow = next;
            _hasRetryNow = true;
        }
    }

    /// <summary>
    /// Gives up on a consumer that overran its time: cancels its token and forgets its handler, whose context the
    /// abandoned consumer may still be using, so the next message gets a fresh one.
    /// </summary>
    private void Abandon(MessageHandler handler, in Envelope envelope, TimeSpan timeout)
    {
        Log.ConsumerTimedOut(Bus.Logger, handler.ConsumerType, envelope.MessageId, Queue.Name, timeout);
        var overrun = _timeoutCancellation!;
        _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(Queue.ConsumerToken);
        overrun.Cancel();

        // Disposing unlinks it from the queue's token; the consumer's token stays cancelled.
        overrun.Dispose();
        _handlers = Array.FindAll(_handlers, h => h != handler);
        _current = null;
    }

    private bool TryTake(out Envelope envelope)
    {
        if (_prefetched is null)
        {
            return Lane.TryTake(out envelope);
        }

        if (!HasPrefetched)
        {
            _prefetchedNext = 0;
            _prefetchedCount = 0;
            while (_prefetchedCount < _prefetched.Length && Lane.TryTake(out _prefetched[_prefetchedCount]))
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
            Queue.ReturnUnprocessed(_prefetched.AsSpan(_prefetchedNext, _prefetchedCount - _prefetchedNext), wereInFlight: false);
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
        if (Queue.FindRegistration(messageType) is not { } registration)
        {
            return null;
        }

        var handler = registration.CreateHandler(this);
        _handlers = [.. _handlers, handler];
        return handler;
    }
}
