namespace Bus;

/// <summary>The storage of one queue, as a transport provides it.</summary>
/// <remarks>
/// Any number of publishers enqueue at once. Deliveries are taken by the queue's readers: one while consumers keep up,
/// more while one is stuck in a consumer (see <see cref="QueueLane"/>). In <see cref="QueueFullMode.Wait"/> and
/// <see cref="QueueFullMode.Reject"/> modes a full queue refuses <see cref="TryEnqueue"/>; in the drop modes it makes
/// room and reports the dropped message. A transport with <see cref="TransportFeatures.Leases"/> keeps each delivery
/// until the bus settles it; the others forget a message once it is taken.
/// </remarks>
internal interface ITransportQueue
{
    /// <summary>Gets the number of messages waiting to be taken.</summary>
    int Count { get; }

    /// <summary>Adds a message if there is room now.</summary>
    /// <param name="envelope">The message.</param>
    /// <returns><see langword="false"/> when the queue is full or completed.</returns>
    bool TryEnqueue(in Envelope envelope);

    /// <summary>Waits until there may be room; every waiting publisher wakes when room appears.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns><see langword="false"/> when the queue is completed.</returns>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken);

    /// <summary>Takes the next delivery if there is one.</summary>
    /// <param name="envelope">The message.</param>
    /// <param name="lease">The transport's handle of the delivery, for <see cref="SettleAsync"/>; <see cref="QueueLane.NoLease"/> without leases.</param>
    /// <returns><see langword="true"/> when a message was taken.</returns>
    bool TryReceive(out Envelope envelope, out long lease);

    /// <summary>Waits until a message can be taken. Without a token it allocates nothing.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns><see langword="false"/> when the queue is completed and empty.</returns>
    ValueTask<bool> WaitToReceiveAsync(CancellationToken cancellationToken);

    /// <summary>Settles a leased delivery: called once per delivery taken, after the bus decided its outcome.</summary>
    /// <param name="lease">The delivery's lease.</param>
    /// <param name="outcome">What the transport does with it.</param>
    /// <returns>A task that completes when the transport has recorded the outcome.</returns>
    ValueTask SettleAsync(long lease, DeliveryOutcome outcome);

    /// <summary>Refuses further messages; those already queued can still be taken.</summary>
    void Complete();

    /// <summary>Finds when the message that has waited longest was sent, for the monitor; does not take it.</summary>
    /// <param name="timestampTicks">Its <see cref="Envelope.Timestamp"/> in UTC ticks.</param>
    /// <returns><see langword="false"/> when the queue is empty or the transport cannot tell.</returns>
    bool TryGetOldestTimestamp(out long timestampTicks);
}
