namespace Bus;

/// <summary>What a stop (or a queue deletion) did with the messages the bus had accepted.</summary>
public sealed class DrainReport
{
    internal DrainReport(bool drained, IReadOnlyList<UnprocessedMessage> unprocessed)
    {
        Drained = drained;
        Unprocessed = unprocessed;
    }

    /// <summary>Gets a value indicating whether every accepted message was processed before the timeout.</summary>
    public bool Drained { get; }

    /// <summary>Gets the messages that were not processed: none when <see cref="Drained"/> is true.</summary>
    public IReadOnlyList<UnprocessedMessage> Unprocessed { get; }
}
