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

    /// <summary>Adds a message, waiting for room.</summary>
    /// <param name="envelope">The message.</param>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>A task that completes when the message is in the queue.</returns>
    /// <exception cref="OperationCanceledException">The wait was cancelled; the message was not added.</exception>
    /// <exception cref="System.Threading.Channels.ChannelClosedException">The queue was completed; the message was not added.</exception>
    ValueTask EnqueueAsync(Envelope envelope, CancellationToken cancellationToken);

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
