namespace Bus;

/// <summary>Counters of one queue, read at one moment.</summary>
public sealed class QueueStatistics
{
    internal QueueStatistics(string name, int depth, long pending, long enqueued, long consumed, long faulted, long dropped)
    {
        Name = name;
        Depth = depth;
        Pending = pending;
        Enqueued = enqueued;
        Consumed = consumed;
        Faulted = faulted;
        Dropped = dropped;
    }

    /// <summary>Gets the queue name.</summary>
    public string Name { get; }

    /// <summary>Gets the number of messages waiting to be delivered.</summary>
    public int Depth { get; }

    /// <summary>Gets the number of accepted messages not yet finished: waiting, prefetched or being consumed.</summary>
    public long Pending { get; }

    /// <summary>Gets the number of messages the queue has accepted.</summary>
    public long Enqueued { get; }

    /// <summary>Gets the number of messages consumed successfully (acknowledged).</summary>
    public long Consumed { get; }

    /// <summary>Gets the number of deliveries whose consumer threw, or that found no consumer.</summary>
    public long Faulted { get; }

    /// <summary>Gets the number of messages dropped because the queue was full.</summary>
    public long Dropped { get; }
}
