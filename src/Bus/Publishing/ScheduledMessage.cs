using System.Diagnostics;

namespace Bus;

/// <summary>A message scheduled for a later publish, waiting.</summary>
[DebuggerDisplay("{Envelope.MessageType.Name,nq} {Id} at {DueAt}")]
public sealed class ScheduledMessage
{
    internal ScheduledMessage(Envelope envelope, DateTimeOffset dueAt)
    {
        Envelope = envelope;
        DueAt = dueAt;
    }

    /// <summary>Gets the schedule id, which is the message id.</summary>
    public Guid Id => Envelope.MessageId;

    /// <summary>Gets when it will be published.</summary>
    public DateTimeOffset DueAt { get; }

    /// <summary>Gets the message and its envelope (exchange, routing key, headers).</summary>
    public Envelope Envelope { get; }
}
