namespace Bus;

/// <summary>The bus at one moment, as <see cref="IBusMonitor"/> read it.</summary>
public sealed class BusSnapshot
{
    internal BusSnapshot(IReadOnlyList<QueueSnapshot> queues, IReadOnlyList<ExchangeSnapshot> exchanges)
    {
        Queues = queues;
        Exchanges = exchanges;
    }

    /// <summary>Gets when the snapshot was taken, from the bus's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset TakenAt { get; internal init; }

    /// <summary>Gets the bus's state.</summary>
    public BusState State { get; internal init; }

    /// <summary>Gets when the bus started, or null when it has not.</summary>
    public DateTimeOffset? StartedAt { get; internal init; }

    /// <summary>Gets how long the bus has been running; zero before it starts, and frozen once it stopped.</summary>
    public TimeSpan Uptime { get; internal init; }

    /// <summary>Gets the number of dead letters in the store.</summary>
    public int DeadLetters { get; internal init; }

    /// <summary>Gets how many dead letters the store evicted to stay within its capacity.</summary>
    public long DeadLettersEvicted { get; internal init; }

    /// <summary>Gets the number of published messages no queue was bound for.</summary>
    public long Unroutable { get; internal init; }

    /// <summary>Gets the number of requests waiting for a response.</summary>
    public int PendingRequests { get; internal init; }

    /// <summary>Gets the number of scheduled publishes waiting for their time.</summary>
    public int Scheduled { get; internal init; }

    /// <summary>Gets every queue, in no particular order.</summary>
    public IReadOnlyList<QueueSnapshot> Queues { get; }

    /// <summary>Gets every exchange with its bindings, in no particular order.</summary>
    public IReadOnlyList<ExchangeSnapshot> Exchanges { get; }

    /// <summary>Gets one queue.</summary>
    /// <param name="name">The queue name.</param>
    /// <returns>The queue's snapshot.</returns>
    /// <exception cref="KeyNotFoundException">No queue has that name.</exception>
    public QueueSnapshot GetQueue(string name)
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
