namespace Bus;

/// <summary>What a queue does with a new message when it already holds <see cref="QueueOptions.Capacity"/> messages.</summary>
public enum QueueFullMode
{
    /// <summary>
    /// The publisher waits until there is room (backpressure); its cancellation token ends the wait. Publishes made
    /// from inside a consumer do not wait: see <see cref="QueueOptions.OverflowCapacity"/>.
    /// </summary>
    Wait,

    /// <summary>The oldest queued message is dropped to make room. The drop is logged and counted.</summary>
    DropOldest,

    /// <summary>
    /// The most recently queued message is dropped to make room for the new one (the semantics of
    /// <c>BoundedChannelFullMode.DropNewest</c>). The drop is logged and counted.
    /// </summary>
    DropNewest,

    /// <summary>The publish fails with a <see cref="QueueFullException"/>; queues that had room keep their copy.</summary>
    Reject,
}
