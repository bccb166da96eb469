using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// A slot that delivers messages one at a time (up to <see cref="QueueOptions.PrefetchCount"/> taken at once): expired
/// ones and duplicates are set aside, the others go to their consumer, and each ends through the queue's
/// <see cref="QueueSettlement"/>; a retry decided for now is delivered next, by the same slot.
/// </summary>
/// <remarks>
/// Deliveries run in a synchronous loop for as long as consumers complete synchronously; the envelope then lives on
/// the stack and in the consumer's context alone. A delivery that goes asynchronous is continued by an awaiter callback
/// cached per slot, so waiting for it allocates nothing beyond what the consumer's own task does.
/// </remarks>
internal sealed class MessageSlot : ConsumerSlot
{
    private readonly Envelope[] _held;
    private readonly long[]? _leases;
    private readonly Action _onPendingCompleted;
    private int _next;
    private int _count;
    private long _lease = NoLease;
    private MessageHandler[] _handlers = [];
    private MessageHandler? _current;
    private Envelope _retryNow;
    private bool _hasRetryNow;
    private ValueTask _pending;
    private Envelope _pendingEnvelope;
    private DeliveryObserver? _observer;

    public MessageSlot(QueueReader reader, int index)
        : base(reader, index)
    {
        _held = new Envelope[Queue.Options.PrefetchCount];
        _leases = Lane.HasLeases ? new long[_held.Length] : null;
        _onPendingCompleted = ContinueDetached;
    }

    public override Guid? CurrentCorrelationId => State == InFlight ? _current?.Context.CorrelationId : null;

    public override IServiceProvider? CurrentServices => State == InFlight ? _current?.Context.Services : null;

    public override bool TryFill()
    {
        _next = 0;
        _count = 0;
        while (_count < _held.Length && Lane.TryTake(out _held[_count], out var lease))
        {
            if (_leases is not null)
            {
                _leases[_count] = lease;
            }

            _count++;
        }

        return _count > 0;
    }

    public override void SetAsideHeld()
    {
        if (_hasRetryNow)
        {
            _hasRetryNow = false;
            SetAside(_retryNow, ref _lease, wasInFlight: false);
            _retryNow = default;
        }

        while (_next < _count)
        {
            SetAsideHeldAt(_next);
            _held[_next++] = default;
        }
    }

    protected override bool RunHeld()
    {
        while (true)
        {
            if (Queue.IsAborted)
            {
                SetAsideHeld();
                return true;
            }

            if (!TryNext(out var envelope))
            {
                return true;
            }

            ValueTask delivery;
            try
            {
                delivery = Deliver(envelope);
            }
            catch (Exception exception)
            {
                _observer?.LeaveAmbient();
                InternalError(envelope, exception);
                _observer?.End();
                if (IsTakenOver)
                {
                    return false;
                }

                continue;
            }

            // The consumer started inside the delivery's span and log scope and carries them through its awaits; the
            // slot's own context leaves them, so the next delivery does not start inside this one's.
            _observer?.LeaveAmbient();
            if (!delivery.IsCompleted)
            {
                _pending = delivery;
                _pendingEnvelope = envelope;
                delivery.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
                return false;
            }

            if (!End(delivery, envelope))
            {
                // Taken over by the stop while its consumer ran on this thread: the slot is no longer ours.
                return false;
            }
        }
    }

    protected override bool CompleteDetached()
    {
        var pending = _pending;
        var envelope = _pendingEnvelope;
        _pending = default;
        _pendingEnvelope = default;
        return End(pending, envelope);
    }

    protected override void ReportTakenOver(List<UnprocessedMessage> into)
    {
        // Published before the slot entered flight; the slot touches none of it once it lost the race.
        if (_current is { } handler)
        {
            Report(into, handler.Context.Envelope, ref _lease, wasInFlight: true);
        }

        SettleLease(ref _lease, DeliveryOutcome.Requeued);
        if (_hasRetryNow)
        {
            Settlement.Report(into, [_retryNow], wereInFlight: false);
        }

        for (var i = _next; i < _count; i++)
        {
            var lease = _leases?[i] ?? NoLease;
            Report(into, _held[i], ref lease, wasInFlight: false);
            if (_leases is not null)
            {
                _leases[i] = NoLease;
            }
        }
    }

    /// <summary>Ends a delivery that has completed; false when the slot was taken over meanwhile.</summary>
    private bool End(ValueTask delivery, in Envelope envelope)
    {
        try
        {
            delivery.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            InternalError(envelope, exception);
        }

        _observer?.End(IsTakenOver);
        if (IsTakenOver)
        {
            return false;
        }

        if (!_hasRetryNow)
        {
            SettleLease(ref _lease, DeliveryOutcome.Acknowledged);
        }

        return true;
    }

    /// <summary>The next message: an immediate retry first, then what the slot holds.</summary>
    private bool TryNext(out Envelope envelope)
    {
        if (_hasRetryNow)
        {
            _hasRetryNow = false;
            envelope = _retryNow;
            _retryNow = default;
            return true;
        }

        if (_next == _count)
        {
            envelope = default;
            return false;
        }

        _lease = _leases?[_next] ?? NoLease;
        envelope = _held[_next];
        _held[_next++] = default;
        return true;
    }

    /// <summary>One delivery, start to end; throws only if the bus itself is broken.</summary>
    private ValueTask Deliver(in Envelope envelope)
    {
        var handler = GetHandler(envelope.MessageType);
        if (DeliveryObserver.IsWanted(Bus))
        {
            (_observer ??= new DeliveryObserver(Bus)).Begin(Queue, envelope, handler?.ConsumerType);
        }

        if (Queue.IsExpired(envelope))
        {
            return Settlement.ExpiredAsync(envelope, _observer);
        }

        if (handler is null)
        {
            return Settlement.NoConsumerAsync(envelope, _observer);
        }

        if (Queue.Deduplication is { } window && !window.TryBegin(envelope.MessageId))
        {
            Settlement.Duplicate(envelope, _observer);
            return default;
        }

        // The context holds the envelope before the slot is in flight, so a stop that takes the slot over reports this
        // message, not the one before.
        _current = handler;
        handler.Prepare(envelope);
        switch (EnterFlight())
        {
            case FlightEntry.Aborted:
                Queue.Deduplication?.Abandon(envelope.MessageId);
                SetAside(envelope, ref _lease, wasInFlight: false);
                return default;
            case FlightEntry.TakenOver:
                return default;
        }

        // The deadline is set before the consumer starts, so it runs from the start of the delivery.
        _observer?.Invoked();
        var deadline = Invoker.StartDeadline();
        ValueTask consumed;
        try
        {
            consumed = handler.HandleAsync(Invoker.Token);
        }
        catch (Exception exception)
        {
            deadline?.Dispose();
            return FailedAsync(handler, envelope, new CallResult(exception, TimedOut: false));
        }

        if (consumed.IsCompletedSuccessfully)
        {
            deadline?.Dispose();
            consumed.GetAwaiter().GetResult();
            return Succeeded(handler, envelope);
        }

        return AwaitConsumerAsync(consumed, deadline, handler, envelope);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitConsumerAsync(ValueTask consumed, Deadline? deadline, MessageHandler handler, Envelope envelope)
    {
        var result = await Invoker.CompleteAsync(consumed, deadline, handler.ConsumerType, envelope.MessageId).ConfigureAwait(false);
        if (result.Failure is null)
        {
            await Succeeded(handler, envelope).ConfigureAwait(false);
        }
        else
        {
            await FailedAsync(handler, envelope, result).ConfigureAwait(false);
        }
    }

    private ValueTask Succeeded(MessageHandler handler, in Envelope envelope)
    {
        if (!TryLeaveFlight())
        {
            return default;
        }

        if (handler.Context.TakeRejection() is { } reason)
        {
            // A rejection is a failed delivery, counted and observed as one, whether the consumer called Reject or threw
            // MessageRejectedException; it is dead-lettered without retries.
            return RejectedAsync(handler, envelope, reason);
        }

        Settlement.Consumed(envelope, handler.ConsumerType, _observer);
        return default;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RejectedAsync(MessageHandler handler, Envelope envelope, string reason)
    {
        var rejected = new MessageRejectedException(reason);
        _observer?.Failed(rejected);
        await Settlement.FailedAsync(handler.RetryPolicy, envelope, rejected, reason, timedOut: false, _observer, keepsError: false).ConfigureAwait(false);
    }

    /// <summary>A failed delivery: cancelled by the stop (reported), or rejected, retried or dead-lettered.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FailedAsync(MessageHandler handler, Envelope envelope, CallResult result)
    {
        _observer?.Failed(result.Failure!);
        if (!TryLeaveFlight())
        {
            return;
        }

        var rejection = handler.Context.TakeRejection();
        if (result.TimedOut)
        {
            // The abandoned consumer may still be using its context: the next message of its type gets a fresh one.
            _handlers = Array.FindAll(_handlers, h => h != handler);
            _current = null;
        }

        if (rejection is null && Invoker.IsNotProcessed(result.Failure!))
        {
            Queue.Deduplication?.Abandon(envelope.MessageId);
            SetAside(envelope, ref _lease, wasInFlight: true);
            return;
        }

        if (await Settlement.FailedAsync(handler.RetryPolicy, envelope, result.Failure!, rejection, result.TimedOut, _observer).ConfigureAwait(false) is { } next)
        {
            _retryNow = next;
            _hasRetryNow = true;
        }
    }

    /// <summary>
    /// The bus itself failed while delivering (a bug, since settlement never throws): the message is set aside for the
    /// stop report rather than lost, and the slot lives on.
    /// </summary>
    private void InternalError(in Envelope envelope, Exception exception)
    {
        Log.DeliveryBroke(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, Queue.Name);
        if (TryLeaveFlight() || State == Held)
        {
            Settlement.SetAside(envelope, wasInFlight: true);
        }
    }

    private void SetAsideHeldAt(int index)
    {
        var lease = _leases?[index] ?? NoLease;
        SetAside(_held[index], ref lease, wasInFlight: false);
        if (_leases is not null)
        {
            _leases[index] = NoLease;
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
