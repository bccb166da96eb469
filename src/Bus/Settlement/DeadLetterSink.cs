using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// Where every dead letter of the bus goes: built with its reason and error, logged, stored, counted
/// (<c>bus.messages.dead_lettered</c>) and marked on the current span, shown to observers, and turned into a fault for
/// a requester waiting on it.
/// </summary>
internal sealed class DeadLetterSink(IDeadLetterStore store, TimeProvider time, ILogger logger, Observers? observers, PendingRequests requests, BusMetrics metrics, IBrokerTransport? broker)
{
    public IDeadLetterStore Store => store;

    /// <summary>
    /// Stores a copy of a message a drain report lists, to inspect and replay. The report is the record, so a store that
    /// fails here is logged and does not fail the stop or the deletion.
    /// </summary>
    public async Task StoreReportedCopyAsync(UnprocessedMessage message, DeadLetterReason reason, string description, QueueLedger? ledger)
    {
        var attempts = message.Envelope.DeliveryCount - (message.WasInFlight ? 0 : 1);
        try
        {
            await StoreAsync(message.Queue, message.Envelope, reason, description, null, attempts).ConfigureAwait(false);
            ledger?.ReportedCopyStored();
        }
        catch (Exception exception)
        {
            Log.DeliveryBroke(logger, exception, message.Envelope.MessageId, message.Envelope.MessageType, message.Queue);
        }
    }

    /// <summary>Stores a dead letter; throws what the store throws, so the caller can keep the message.</summary>
    public async ValueTask StoreAsync(string queue, Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts)
    {
        var now = time.GetUtcNow();
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
        Log.DeadLettered(logger, exception, envelope.MessageId, envelope.MessageType, queue, reason, description);
        await store.AddAsync(deadLetter).ConfigureAwait(false);
        metrics.RecordDeadLettered(queue, envelope.MessageType, reason);
        BusTracing.AddEvent(TelemetryTags.DeadLetterEvent, TelemetryTags.Reason, BusMetrics.ReasonName(reason), "bus.dead_letter.description", description);
        observers?.DeadLettered(deadLetter);
        requests.Fault(deadLetter);
        if (broker is not null && ConsumeContext.RemoteReplyTo(envelope) is { } replyTo)
        {
            await FaultRemoteAsync(broker, replyTo, envelope.MessageId, $"{reason}: {description}").ConfigureAwait(false);
        }
    }

    /// <summary>Tells a requester in another process that its request was dead-lettered, so it fails now rather than at its timeout.</summary>
    private async Task FaultRemoteAsync(IBrokerTransport broker, string replyTo, Guid requestId, string description)
    {
        try
        {
            await broker.ReplyAsync(replyTo, requestId, null, typeof(object), description, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.ReplyFailed(logger, exception, requestId);
        }
    }
}
