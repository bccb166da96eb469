namespace Bus;

/// <summary>The storage of one queue, as a transport provides it.</summary>
/// <remarks>
/// Any number of publishers enqueue and any number of consumers dequeue at the same time. In
/// <see cref="QueueFullMode.Wait"/> and <see cref="QueueFullMode.Reject"/> modes a full queue refuses
/// <see cref="TryEnqueue"/>; in the drop modes it makes room and reports the dropped message.
/// </remarks>
public interface ITransportQueue
{
    /// <summary>Gets the number of messages waiting in the queue.</summary>
    int Count { get; }

    /// <summary>Adds a message if there is room now.</summary>
    /// <param name="envelope">The message.</param>
    /// <returns><see langword="false"/> when the queue is full or completed.</returns>
    bool TryEnqueue(in Envelope envelope);

    /// <summary>
    /// Waits until there may be room. Waking every waiting publisher when room appears, rather than handing one slot
    /// to one publisher at a time, lets a publisher that was held up write a run of messages per wake-up.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns><see langword="false"/> when the queue is completed.</returns>
    /// <exception cref="OperationCanceledException">The wait was cancelled.</exception>
    ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken);

    /// <summary>Takes the next message if there is one.</summary>
    /// <param name="envelope">The message taken.</param>
    /// <returns><see langword="true"/> when a message was taken.</returns>
    bool TryDequeue(out Envelope envelope);

    /// <summary>Waits until a message can be taken.</summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns><see langword="false"/> when the queue is completed and empty.</returns>
    ValueTask<bool> WaitToDequeueAsync(CancellationToken cancellationToken);

    /// <summary>Refuses further messages; those already queued can still be taken.</summary>
    void Complete();
}
