namespace Bus;

/// <summary>Which dead letters to list, replay or purge. Every criterion left null matches everything.</summary>
public sealed class DeadLetterQuery
{
    /// <summary>Gets or sets the queue the messages failed in.</summary>
    public string? Queue { get; set; }

    /// <summary>Gets or sets the message type.</summary>
    public Type? MessageType { get; set; }

    /// <summary>Gets or sets the reason.</summary>
    public DeadLetterReason? Reason { get; set; }

    /// <summary>Gets or sets the earliest time of dead-lettering (inclusive).</summary>
    public DateTimeOffset? From { get; set; }

    /// <summary>Gets or sets the latest time of dead-lettering (exclusive).</summary>
    public DateTimeOffset? To { get; set; }

    /// <summary>Gets or sets the most entries to return, oldest first.</summary>
    /// <value>The default, <see langword="null"/>, returns every match.</value>
    public int? Limit { get; set; }

    /// <summary>Whether a dead letter meets every criterion.</summary>
    /// <param name="deadLetter">The dead letter.</param>
    /// <returns><see langword="true"/> when it matches.</returns>
    public bool Matches(DeadLetter deadLetter)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        return (Queue is null || string.Equals(deadLetter.Queue, Queue, StringComparison.Ordinal))
            && (MessageType is null || deadLetter.Envelope.MessageType == MessageType)
            && (Reason is null || deadLetter.Reason == Reason)
            && (From is null || deadLetter.LastFailedAt >= From)
            && (To is null || deadLetter.LastFailedAt < To);
    }
}
