using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// The one place where a queue's messages end: acknowledged, skipped as duplicates, retried (now, or later through the
/// retry schedule), dead-lettered with a reason, or set aside for the drain report. Both kinds of consumer slot settle
/// through it, and it alone tells the queue's <see cref="QueueLedger"/> how each message ended.
/// </summary>
/// <remarks>
/// Nothing here throws: when the bus itself fails to end a message (a dead-letter store that throws), the message is
/// set aside for the report of the next stop, counted as <see cref="Outcome.Reported"/>, and logged as critical, so the
/// queue still goes idle and the message is still accounted for.
/// </remarks>
internal sealed class QueueSettlement
{
    private readonly Lock _lock = new();
    private List<UnprocessedMessage>? _setAside;
    private readonly BusQueue _queue;
    private readonly QueueLedger _ledger;
    private readonly MessageBus _bus;
    private bool _reportTaken;

    public QueueSettlement(BusQueue queue)
    {
        _queue = queue;
        _ledger = queue.Ledger;
        _bus = queue.Bus;
    }

    private string Name => _queue.Name;

    private ILogger Logger => _bus.Logger;

    /// <summary>A consumer acknowledged the message.</summary>
    public void Consumed(in Envelope envelope, Type consumerType, DeliveryObserver? observer = null)
    {
        _queue.Deduplication?.Complete(envelope.MessageId);
        _bus.Observers?.Consumed(envelope, Name, consumerType);
        observer?.End();
        _ledger.Settle(Outcome.Consumed);
    }

    /// <summary>A copy of a message consumed before: acknowledged without calling the consumer.</summary>
    public void Duplicate(in Envelope envelope, DeliveryObserver? observer = null)
    {
        Log.DuplicateSkipped(Logger, envelope.MessageId, envelope.MessageType, Name);
        observer?.End();
        _ledger.Settle(Outcome.Duplicate);
    }

    /// <summary>
    /// A delivery given back to a transport that keeps it (requeued to a broker at a stop): it is the broker's again, and
    /// is counted in anew when delivered again, here or to another instance.
    /// </summary>
    public void Returned(in Envelope envelope)
    {
        _queue.Deduplication?.Abandon(envelope.MessageId);
        Log.DeliveryReturned(Logger, envelope.MessageId, envelope.MessageType, Name);
        _ledger.Settle(Outcome.Returned);
    }

    /// <summary>A message whose time to live ran out before it was delivered.</summary>
    public ValueTask ExpiredAsync(in Envelope envelope, DeliveryObserver? observer = null)
    {
        BusTracing.Recording?.AddEvent(new(TelemetryTags.ExpiredEvent));
        return DeadLetterAsync(envelope, DeadLetterReason.Expired, "its time to live ran out before delivery", null, envelope.DeliveryCount - 1, observer: observer);
    }

    /// <summary>A message of a type no consumer of this queue takes.</summary>
    public ValueTask NoConsumerAsync(in Envelope envelope, DeliveryObserver? observer = null) =>
        DeadLetterAsync(envelope, DeadLetterReason.NoConsumer, $"queue '{Name}' has no consumer for {envelope.MessageType}", null, envelope.DeliveryCount - 1, observer: observer);

    /// <summary>A message the full queue dropped (a drop mode): logged, dead-lettered as overflow, counted as dropped.</summary>
    public ValueTask DroppedAsync(in Envelope envelope)
    {
        Log.MessageDropped(Logger, Name, envelope.MessageId, envelope.MessageType, _queue.Options.FullMode);
        _bus.Metrics.RecordDropped(Name, envelope.MessageType, _queue.Options.FullMode);
        if (BusTracing.Recording is not null)
        {
            BusTracing.AddEvent(TelemetryTags.DroppedEvent, TelemetryTags.MessageId, envelope.MessageId.ToString(), TelemetryTags.Destination, Name);
        }

        return DeadLetterAsync(envelope, DeadLetterReason.Overflow, $"queue '{Name}' was full ({_queue.Options.FullMode})", null, envelope.DeliveryCount - 1, dropped: true);
    }

    /// <summary>
    /// A failed delivery (the consumer threw, rejected the message, or overran its time): counted, then ended as the
    /// rejection or the retry policy decides. Returns the next attempt when it is to be delivered again at once; the
    /// caller delivers it.
    /// </summary>
    /// <remarks>
    /// A consumer that called <see cref="ConsumeContext.Reject(string)"/> without throwing comes here with an exception
    /// made for it, which the dead letter does not keep (<paramref name="keepsError"/> false): there was no error.
    /// </remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<Envelope?> FailedAsync(IRetryPolicy policy, Envelope envelope, Exception exception, string? rejection, bool timedOut, DeliveryObserver? observer = null, bool keepsError = true)
    {
        _ledger.Faulted();
        _queue.Deduplication?.Abandon(envelope.MessageId);
        _bus.Observers?.Faulted(envelope, Name, exception);
        if (rejection is not null || exception is MessageRejectedException)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.Rejected, rejection ?? exception.Message, keepsError ? exception : null, envelope.DeliveryCount, observer: observer).ConfigureAwait(false);
            return null;
        }

        RetryDecision decision;
        try
        {
            decision = policy.Decide(new RetryContext(exception, envelope, Name));
        }
        catch (Exception policyError)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.MaxRetriesExceeded, $"the retry policy threw {policyError.GetType().Name}: {policyError.Message}", exception, envelope.DeliveryCount, observer: observer).ConfigureAwait(false);
            return null;
        }

        if (!decision.ShouldRetry)
        {
            var reason = timedOut ? DeadLetterReason.ConsumerTimeout : decision.Reason;
            var description = reason switch
            {
                DeadLetterReason.NotRetryable => $"{exception.GetType().Name} is not retried",
                DeadLetterReason.ConsumerTimeout => exception.Message,
                DeadLetterReason.Failed => $"failed and the retry policy allows no retries: {exception.Message}",
                _ => $"failed {envelope.DeliveryCount} time(s): {exception.Message}",
            };
            await DeadLetterAsync(envelope, reason, description, exception, envelope.DeliveryCount, observer: observer).ConfigureAwait(false);
            return null;
        }

        _ledger.Retried();
        _bus.Metrics.RecordRetried(Name, envelope.MessageType);
        if (BusTracing.Recording is not null)
        {
            BusTracing.AddEvent(TelemetryTags.RetryEvent, TelemetryTags.DeliveryCount, envelope.DeliveryCount + 1, TelemetryTags.Delay, decision.Delay.TotalMilliseconds);
        }

        Log.RetryScheduled(Logger, exception, envelope.MessageId, envelope.MessageType, envelope.DeliveryCount, Name, decision.Delay);
        var next = NextAttempt(envelope);
        if (decision.Delay == TimeSpan.Zero)
        {
            _bus.Observers?.Retrying(next, Name, decision.Delay);
            return next;
        }

        // Waiting for a delayed retry counts as idle: the attempt's span and measurements are done before it waits.
        observer?.End();
        if (_queue.RetriesWaitInBroker)
        {
            if (await ForwardRetryAsync(envelope, next, decision.Delay).ConfigureAwait(false))
            {
                return null;
            }

            // The broker did not take it: retried at once here instead, its delivery still held, so the message never
            // lives only in this process's memory.
            _bus.Observers?.Retrying(next, Name, TimeSpan.Zero);
            return next;
        }

        switch (_bus.Delayed.TrySchedule(_queue, next, decision.Delay))
        {
            case ScheduleResult.Scheduled:
                // Recorded before idle waiters wake: a test that sees the bus idle finds the retry announced.
                _bus.Observers?.Retrying(next, Name, decision.Delay);
                _ledger.Notify();
                break;
            case ScheduleResult.Full:
                await DeadLetterAsync(envelope, DeadLetterReason.Overflow, $"the retry schedule is full ({_bus.Options.ScheduledCapacity} messages)", exception, envelope.DeliveryCount, observer: observer).ConfigureAwait(false);
                break;
            default:
                // The bus is stopping and its schedule is closed: the stop report takes the message.
                SetAside(next, wasInFlight: false);
                break;
        }

        return null;
    }

    /// <summary>
    /// Ends a message in the dead-letter store with its reason. Attempts is how many deliveries failed. When the store
    /// throws, the message is set aside for the stop report instead; this never throws.
    /// </summary>
    public ValueTask DeadLetterAsync(in Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts, bool dropped = false, DeliveryObserver? observer = null)
    {
        ValueTask storing;
        try
        {
            storing = _bus.DeadLetters.StoreAsync(Name, envelope, reason, description, exception, attempts);
        }
        catch (Exception storeError)
        {
            StoreFailed(envelope, storeError);
            return default;
        }

        if (storing.IsCompletedSuccessfully)
        {
            storing.GetAwaiter().GetResult();
            observer?.End();
            _ledger.SettleDeadLettered(reason, dropped);
            return default;
        }

        return AwaitStoredAsync(storing, envelope, reason, dropped, observer);
    }

    /// <summary>
    /// Sets a message aside for the next drain report: the stop cancelled its consumer, took it before a consumer started
    /// on it, or the bus failed to end it. It counts as ended from now on.
    /// </summary>
    public void SetAside(in Envelope envelope, bool wasInFlight)
    {
        lock (_lock)
        {
            if (!_reportTaken)
            {
                (_setAside ??= []).Add(new UnprocessedMessage(Name, envelope, wasInFlight));
                _ledger.Settle(Outcome.Reported);
                return;
            }
        }

        // Too late for the report (a retry or scheduled message that came due as its queue closed): it goes where a
        // report's messages go, the dead-letter store.
        _ = DeadLetterLateAsync(envelope);
    }

    /// <summary>Counts messages the stop or a queue deletion took (from the storage or from a stuck consumer) as reported.</summary>
    public void Report(List<UnprocessedMessage> into, ReadOnlySpan<Envelope> envelopes, bool wereInFlight)
    {
        foreach (var envelope in envelopes)
        {
            into.Add(new UnprocessedMessage(Name, envelope, wereInFlight));
            _ledger.Settle(Outcome.Reported);
        }
    }

    /// <summary>Takes what was set aside, for the final report of the queue (its deletion, or the stop).</summary>
    public void TakeReport(List<UnprocessedMessage> into)
    {
        lock (_lock)
        {
            if (_setAside is not null)
            {
                into.AddRange(_setAside);
                _setAside = null;
            }

            _reportTaken = true;
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask AwaitStoredAsync(ValueTask storing, Envelope envelope, DeadLetterReason reason, bool dropped, DeliveryObserver? observer)
    {
        try
        {
            await storing.ConfigureAwait(false);
        }
        catch (Exception storeError)
        {
            StoreFailed(envelope, storeError);
            return;
        }

        observer?.End();
        _ledger.SettleDeadLettered(reason, dropped);
    }

    private async Task DeadLetterLateAsync(Envelope envelope)
    {
        var reason = _queue.IsDeleted ? DeadLetterReason.QueueDeleted : DeadLetterReason.BusStopped;
        try
        {
            await _bus.DeadLetters.StoreAsync(Name, envelope, reason, "it came back after its queue was closed and reported", null, envelope.DeliveryCount - 1).ConfigureAwait(false);
            _ledger.SettleDeadLettered(reason);
        }
        catch (Exception storeError)
        {
            // Nowhere left to keep it: the critical log line, with the message id, is its record.
            Log.DeliveryBroke(Logger, storeError, envelope.MessageId, envelope.MessageType, Name);
            _ledger.Settle(Outcome.Reported);
        }
    }

    private void StoreFailed(in Envelope envelope, Exception storeError)
    {
        Log.DeliveryBroke(Logger, storeError, envelope.MessageId, envelope.MessageType, Name);
        SetAside(envelope, wasInFlight: false);
    }

    /// <summary>
    /// Sends a delayed retry to wait in the broker, which returns it to the queue when due (surviving a restart of this
    /// process); the delivery's lease is acknowledged after. False when the broker did not take it, logged.
    /// </summary>
    private async ValueTask<bool> ForwardRetryAsync(Envelope envelope, Envelope next, TimeSpan delay)
    {
        try
        {
            await _queue.Broker!.ForwardRetryAsync(Name, next, delay, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.RetryForwardFailed(Logger, exception, envelope.MessageId, envelope.MessageType, Name);
            return false;
        }

        _bus.Observers?.Retrying(next, Name, delay);
        _ledger.Settle(Outcome.Returned);
        return true;
    }

    private Envelope NextAttempt(in Envelope envelope)
    {
        var next = envelope.WithDeliveryCount(envelope.DeliveryCount + 1);
        return envelope.Headers.ContainsKey(RetryHeaders.FirstFailedAt)
            ? next
            : next.WithHeaders(MessageHeaders.With(envelope.Headers, RetryHeaders.FirstFailedAt, _bus.Time.GetUtcNow()));
    }
}
