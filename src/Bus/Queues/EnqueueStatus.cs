namespace Bus;

/// <summary>What became of one attempt to put a message into a queue.</summary>
internal enum EnqueueStatus
{
    /// <summary>The queue holds the message.</summary>
    Accepted,

    /// <summary>The queue is full and in Wait mode: the publisher must wait for room.</summary>
    Full,

    /// <summary>The queue is full and in Reject mode.</summary>
    Rejected,

    /// <summary>The queue is full and the overflow for publishes from consumers is full too.</summary>
    OverflowFull,

    /// <summary>The queue no longer accepts messages (deleted, or the bus stopped).</summary>
    Closed,
}
