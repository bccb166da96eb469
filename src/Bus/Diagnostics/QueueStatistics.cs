namespace Bus;

/// <summary>Counters of one queue, read at one moment.</summary>
public sealed class QueueStatistics
{
    internal QueueStatistics(string name, int depth)
    {
        Name = name;
        Depth = depth;
    }

    /// <summary>Gets the queue name.</summary>
    public string Name { get; }

    /// <summary>Gets the number of messages waiting to be delivered.</summary>
    public int Depth { get; }

    /// <summary>Gets the number of accepted messages not yet finished: waiting, prefetched, being consumed or waiting for a retry.</summary>
    public long Pending { get; internal set; }

    /// <summary>Gets the number of messages waiting for a delayed retry.</summary>
    public long WaitingForRetry { get; internal set; }

    /// <summary>Gets the number of messages the queue has accepted.</summary>
    public long Enqueued { get; internal set; }

    /// <summary>Gets the number of messages consumed successfully (acknowledged).</summary>
    public long Consumed { get; internal set; }

    /// <summary>Gets the number of deliveries whose consumer threw or timed out.</summary>
    public long Faulted { get; internal set; }

    /// <summary>Gets the number of retries decided (immediate and delayed).</summary>
    public long Retried { get; internal set; }

    /// <summary>Gets the number of messages that ended in the dead-letter store, dropped and expired ones included.</summary>
    public long DeadLettered { get; internal set; }

    /// <summary>Gets the number of messages that expired before delivery.</summary>
    public long Expired { get; internal set; }

    /// <summary>Gets the number of messages skipped as duplicates of messages consumed before.</summary>
    public long Duplicates { get; internal set; }

    /// <summary>Gets the number of messages dropped because the queue was full.</summary>
    public long Dropped { get; internal set; }
}
