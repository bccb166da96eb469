using System.Diagnostics;

namespace Bus;

/// <summary>
/// One line of messages within a queue: the transport's storage and the overflow beside it. A queue has one lane that
/// all its workers share, or, when it is partitioned by key, one lane per worker.
/// </summary>
/// <remarks>
/// The overflow: a consumer that waited for room in a full queue could be waiting for itself (it is the queue's only
/// worker, or the queues form a cycle). So a publish from a consumer parks the message in the overflow instead, and
/// workers take from the overflow before the storage. Retries that come due while the lane is full wait there too.
/// <see cref="_lock"/> guards the overflow and <see cref="_closed"/>; the transport is only called under it to move
/// parked messages into free room, and the transport never calls back into the queue in Wait mode (the only mode with
/// an overflow), so the lock order cannot invert.
/// </remarks>
[DebuggerDisplay("Lane: depth {Depth}, parked {_overflowCount}")]
internal sealed class QueueLane(ITransportQueue storage, int overflowCapacity)
{
    private readonly Lock _lock = new();
    private readonly Queue<Envelope> _overflow = new();
    private readonly IConsumerPresence? _presence = storage as IConsumerPresence;
    private volatile int _overflowCount;
    private bool _closed;

    public int Depth => storage.Count + _overflowCount;

    /// <summary>Whether messages are parked beside the full storage.</summary>
    public bool HasParked => _overflowCount != 0;

    public bool TryStore(in Envelope envelope) => storage.TryEnqueue(envelope);

    public ValueTask<bool> WaitForRoomAsync(CancellationToken cancellationToken) => storage.WaitToEnqueueAsync(cancellationToken);

    /// <summary>Parks a consumer's publish beside the full storage, bounded by the overflow capacity.</summary>
    public EnqueueStatus Park(in Envelope envelope) => Park(envelope, overflowCapacity);

    /// <summary>
    /// Parks a message that must not be refused for lack of room (a retry or scheduled message that came due; the
    /// schedule's capacity bounds these). Refused only when the lane is closed.
    /// </summary>
    public EnqueueStatus ParkUnbounded(in Envelope envelope) => Park(envelope, int.MaxValue);

    public bool TryTake(out Envelope envelope)
    {
        if (_overflowCount != 0 && TryTakeParked(out envelope))
        {
            // A consumer woken for messages in the storage took a parked one instead: wake another for those.
            _presence?.ShareOut();
            return true;
        }

        return storage.TryDequeue(out envelope);
    }

    /// <summary>
    /// Waits for a message. Without a token the storage reuses one waiter instead of allocating one per wait, and
    /// <see cref="Close"/> ends the wait; a token (a batch window) costs an allocation per wait.
    /// </summary>
    public ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken = default) => storage.WaitToDequeueAsync(cancellationToken);

    /// <summary>A worker begins taking messages (see <see cref="IConsumerPresence"/>).</summary>
    public void Resume() => _presence?.Resume();

    /// <summary>A worker stops taking messages; <paramref name="shareOut"/> when a delivery it started went asynchronous.</summary>
    public void Pause(bool shareOut) => _presence?.Pause(shareOut);

    /// <summary>Refuses further messages; what is stored or parked can still be taken.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }

        storage.Complete();
    }

    private bool TryTakeParked(out Envelope envelope)
    {
        lock (_lock)
        {
            if (_overflow.TryDequeue(out envelope))
            {
                _overflowCount = _overflow.Count;
                return true;
            }

            return false;
        }
    }

    /// <summary>Takes everything parked and stored, once the workers have stopped.</summary>
    public void TakeAll(string queue, List<UnprocessedMessage> into)
    {
        lock (_lock)
        {
            while (_overflow.TryDequeue(out var parked))
            {
                into.Add(new UnprocessedMessage(queue, parked, wasInFlight: false));
            }

            _overflowCount = 0;
        }

        while (storage.TryDequeue(out var stored))
        {
            into.Add(new UnprocessedMessage(queue, stored, wasInFlight: false));
        }
    }

    private EnqueueStatus Park(in Envelope envelope, int capacity)
    {
        lock (_lock)
        {
            if (_closed)
            {
                return EnqueueStatus.Closed;
            }

            if (_overflow.Count >= capacity)
            {
                return EnqueueStatus.OverflowFull;
            }

            _overflow.Enqueue(envelope);

            // Room may have appeared since the failed write; moving parked messages into it now means a worker that
            // found both empty and went to sleep on the storage is woken.
            while (_overflow.TryPeek(out var head) && storage.TryEnqueue(head))
            {
                _overflow.Dequeue();
            }

            _overflowCount = _overflow.Count;
        }

        return EnqueueStatus.Accepted;
    }
}
