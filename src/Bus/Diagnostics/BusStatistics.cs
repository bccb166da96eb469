namespace Bus;

/// <summary>Counters of the bus and its queues, read at one moment.</summary>
public sealed class BusStatistics
{
    internal BusStatistics(long unroutable, int deadLetters, long deadLettersEvicted, IReadOnlyList<QueueStatistics> queues)
    {
        Unroutable = unroutable;
        DeadLetters = deadLetters;
        DeadLettersEvicted = deadLettersEvicted;
        Queues = queues;
    }

    /// <summary>Gets how many dead letters the store evicted to stay within its capacity (<see cref="IDeadLetterStore.Evicted"/>).</summary>
    public long DeadLettersEvicted { get; }

    /// <summary>Gets the number of dead letters in the store.</summary>
    public int DeadLetters { get; }

    /// <summary>Gets the number of published messages no queue was bound for.</summary>
    public long Unroutable { get; }

    /// <summary>Gets the number of requests waiting for a response (at most <see cref="BusOptions.MaxPendingRequests"/>).</summary>
    public int PendingRequests { get; init; }

    /// <summary>Gets the number of scheduled publishes waiting for their time (retries are counted by their queues).</summary>
    public int Scheduled { get; init; }

    /// <summary>Gets the statistics of each queue.</summary>
    public IReadOnlyList<QueueStatistics> Queues { get; }

    /// <summary>Gets the statistics of one queue.</summary>
    /// <param name="name">The queue name.</param>
    /// <returns>The queue's statistics.</returns>
    /// <exception cref="KeyNotFoundException">No queue has that name.</exception>
    public QueueStatistics GetQueue(string name)
    {
        foreach (var queue in Queues)
        {
            if (string.Equals(queue.Name, name, StringComparison.Ordinal))
            {
                return queue;
            }
        }

        throw new KeyNotFoundException($"No queue named '{name}'.");
    }
}
