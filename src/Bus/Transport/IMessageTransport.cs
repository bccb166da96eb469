namespace Bus;

/// <summary>
/// Where queued messages live: the seam between the bus and a transport. The bus keeps routing, the retry policy, time
/// to live, deduplication and the dead-letter decision; the transport keeps the messages and hands them out as
/// deliveries, which the bus settles when the transport leases them (<see cref="TransportFeatures.Leases"/>).
/// </summary>
/// <remarks>
/// Internal until a transport over a real broker (RabbitMQ) and one over a store that leases rows (SQLite) have proved
/// the shape; the default keeps every queue in this process (<see cref="InMemoryTransport"/>).
/// </remarks>
internal interface IMessageTransport
{
    /// <summary>What the transport's queues do themselves; the bus emulates the rest or refuses it at start.</summary>
    TransportFeatures Features { get; }

    /// <summary>Creates the storage of one queue (or of one partition of a partitioned queue).</summary>
    /// <param name="name">The queue name.</param>
    /// <param name="options">The queue's options; capacity, full mode and priorities are the transport's to enforce.</param>
    /// <param name="onDropped">
    /// Called, outside any lock, with each message the queue drops in <see cref="QueueFullMode.DropOldest"/> or
    /// <see cref="QueueFullMode.DropNewest"/> mode, so the bus can dead-letter and count it.
    /// </param>
    /// <returns>The queue storage.</returns>
    ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped);
}
