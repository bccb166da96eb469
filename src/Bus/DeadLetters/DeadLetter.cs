using System.Diagnostics;

namespace Bus;

/// <summary>A message that could not be consumed, with why and when.</summary>
[DebuggerDisplay("{Reason} {Queue,nq}: {Envelope.MessageType.Name,nq} {Envelope.MessageId}")]
public sealed class DeadLetter
{
    /// <summary>Creates a dead letter. The bus creates them; stores that persist them create them again when loading.</summary>
    /// <param name="id">The entry's own id (a message can be dead-lettered in several queues).</param>
    /// <param name="envelope">The message and its envelope as last delivered.</param>
    /// <param name="queue">The queue the message failed in.</param>
    /// <param name="reason">Why it was dead-lettered.</param>
    /// <param name="description">The reason in words.</param>
    /// <param name="error">The last exception, when there was one.</param>
    /// <param name="attempts">How many deliveries were attempted.</param>
    /// <param name="firstFailedAt">When the first attempt failed (or the message expired or was dropped).</param>
    /// <param name="lastFailedAt">When the last attempt failed; the time it was dead-lettered.</param>
    public DeadLetter(
        Guid id,
        Envelope envelope,
        string queue,
        DeadLetterReason reason,
        string description,
        ErrorInfo? error,
        int attempts,
        DateTimeOffset firstFailedAt,
        DateTimeOffset lastFailedAt)
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(description);
        Id = id;
        Envelope = envelope;
        Queue = queue;
        Reason = reason;
        Description = description;
        Error = error;
        Attempts = attempts;
        FirstFailedAt = firstFailedAt;
        LastFailedAt = lastFailedAt;
    }

    /// <summary>Gets the entry's id.</summary>
    public Guid Id { get; }

    /// <summary>Gets the message and its envelope as last delivered.</summary>
    public Envelope Envelope { get; }

    /// <summary>Gets the message.</summary>
    public object Message => Envelope.Message;

    /// <summary>Gets the queue the message failed in.</summary>
    public string Queue { get; }

    /// <summary>Gets why the message was dead-lettered.</summary>
    public DeadLetterReason Reason { get; }

    /// <summary>Gets the reason in words (a rejection's reason, the timeout, the policy's verdict).</summary>
    public string Description { get; }

    /// <summary>Gets the last exception, or null when no consumer failed (expired, dropped, stopped, rejected without one).</summary>
    public ErrorInfo? Error { get; }

    /// <summary>Gets how many deliveries were attempted (0 when the message never reached a consumer).</summary>
    public int Attempts { get; }

    /// <summary>Gets when the first attempt failed.</summary>
    public DateTimeOffset FirstFailedAt { get; }

    /// <summary>Gets when the last attempt failed, which is when the message was dead-lettered.</summary>
    public DateTimeOffset LastFailedAt { get; }
}
