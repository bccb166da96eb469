using System.Diagnostics;

namespace Bus;

/// <summary>A message the bus had accepted but did not process, reported when it stopped or when its queue was deleted.</summary>
[DebuggerDisplay("{Queue,nq}: {Envelope.MessageType.Name,nq} {Envelope.MessageId}")]
public sealed class UnprocessedMessage
{
    internal UnprocessedMessage(string queue, Envelope envelope, bool wasInFlight)
    {
        Queue = queue;
        Envelope = envelope;
        WasInFlight = wasInFlight;
    }

    /// <summary>Gets the queue the message was in.</summary>
    public string Queue { get; }

    /// <summary>Gets the message and its envelope.</summary>
    public Envelope Envelope { get; }

    /// <summary>
    /// Gets a value indicating whether a consumer had started on the message and was cancelled or did not finish;
    /// otherwise it was still waiting in the queue.
    /// </summary>
    public bool WasInFlight { get; }
}
