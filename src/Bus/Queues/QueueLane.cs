using System.Diagnostics;

namespace Bus;

/// <summary>
/// One line of messages within a queue: the transport's storage and the overflow beside it, read by one
/// <see cref="QueueReader"/>. A queue has one lane that all its consumers share, or, when it is partitioned by key,
/// one lane per consumer.
/// </summary>
/// <remarks>
/// The overflow: a consumer that waited for room in a full queue could be waiting for itself (it is the queue's only
/// consumer, or the queues form a cycle). So a publish from a consumer parks the message in the overflow instead, and
/// readers take from the overflow before the storage. Retries and scheduled messages that come due while the lane is
/// full wait there too. <see cref="_lock"/> guards the overflow and <see cref="_closed"/>; the storage is only called
/// under it to move parked messages into free room, and the storage never calls back into the lane in Wait mode (the
/// only mode with a bounded overflow), so the lock order cannot invert.
/// </remarks>
[DebuggerDisplay("Lane {Name,nq}: depth {Depth}, parked {_overflowCount}")]
internal sealed class QueueLane
{
    /// <summary>The lease of a delivery that has none: taken from the overflow, or from a transport without leases.</summary>
    public const long NoLease = -1;

    private readonly Lock _lock = new();
    private Queue<Envelope>? _overflow;
    private readonly ITransportQueue _storage;
    private readonly int _overflowCapacity;
    private readonly BusQueue _queue;
    private volatile int _overflowCount;
    private bool _closed;

    public QueueLane(BusQueue queue, string name, ITransportQueue storage, int overflowCapacity, bool hasLeases, bool returnsRequeued)
    {
        ReturnsRequeued = returnsRequeued;
        _queue = queue;
        Name = name;
        _storage = storage;
        _overflowCapacity = overflowCapacity;
        HasLeases = hasLeases;
    }

    public string Name { get; }

    /// <summary>The transport's storage of this lane.</summary>
    public ITransportQueue Storage => _storage;

    /// <summary>
    /// Whether a delivery requeued with the storage stays there to be delivered again (a broker, see
    /// <see cref="TransportFeatures.Durable"/>): it is then returned, not reported as unprocessed.
    /// </summary>
    public bool ReturnsRequeued { get; }

    /// <summary>Whether the storage leases its deliveries, to be settled (see <see cref="TransportFeatures.Leases"/>).</summary>
    public bool HasLeases { get; }

    /// <summary>Messages waiting: stored and parked. It can exceed the capacity by what is parked.</summary>
    public int Depth => _storage.Count + _overflowCount;

    /// <summary>Whether messages are parked beside the full storage.</summary>
    public bool HasParked => _overflowCount != 0;

    public bool TryStore(in Envelope envelope) => _storage.TryEnqueue(envelope);

    public ValueTask<bool> WaitForRoomAsync(CancellationToken cancellationToken) => _storage.WaitToEnqueueAsync(cancellationToken);

    /// <summary>Parks a consumer's publish beside the full storage, bounded by the overflow capacity.</summary>
    public EnqueueStatus Park(in Envelope envelope) => Park(envelope, _overflowCapacity);

    /// <summary>
    /// Parks a message that must not be refused for lack of room (a retry or scheduled message that came due; the
    /// schedule's capacity bounds these). Refused only when the lane is closed.
    /// </summary>
    public EnqueueStatus ParkUnbounded(in Envelope envelope) => Park(envelope, int.MaxValue);

    /// <summary>Takes the next message: parked ones first (they were refused room before those stored after them).</summary>
    public bool TryTake(out Envelope envelope, out long lease)
    {
        if (_overflowCount != 0 && TryTakeParked(out envelope))
        {
            lease = NoLease;
            return true;
        }

        return _storage.TryReceive(out envelope, out lease);
    }

    /// <summary>Waits for a message; without a token it allocates nothing. <see cref="Close"/> ends the wait.</summary>
    public ValueTask<bool> WaitToTakeAsync(CancellationToken cancellationToken = default) => _storage.WaitToReceiveAsync(cancellationToken);

    /// <summary>Settles a leased delivery with the storage; a failure is logged, and the bus's own outcome stands.</summary>
    public void SettleLease(long lease, DeliveryOutcome outcome)
    {
        ValueTask settling;
        try
        {
            settling = _storage.SettleAsync(lease, outcome);
        }
        catch (Exception exception)
        {
            Log.LeaseSettlementFailed(_queue.Bus.Logger, exception, Name, outcome);
            return;
        }

        if (!settling.IsCompletedSuccessfully)
        {
            _ = ObserveAsync(settling, outcome);
        }
    }

    /// <summary>When the message that has waited longest was sent: parked messages are older than stored ones.</summary>
    public bool TryGetOldestTimestamp(out long timestampTicks)
    {
        if (_overflowCount != 0)
        {
            lock (_lock)
            {
                if (_overflow?.TryPeek(out var parked) == true)
                {
                    timestampTicks = parked.TimestampTicks;
                    return true;
                }
            }
        }

        return _storage.TryGetOldestTimestamp(out timestampTicks);
    }

    /// <summary>Refuses further messages; what is stored or parked can still be taken.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }

        _storage.Complete();
    }

    /// <summary>
    /// Takes everything parked and stored, once no reader takes from the lane any more. A leased delivery of a storage
    /// that keeps what is requeued goes back to it, counted as returned rather than taken.
    /// </summary>
    public void TakeAll(List<Envelope> into)
    {
        lock (_lock)
        {
            while (_overflow?.TryDequeue(out var parked) == true)
            {
                into.Add(parked);
            }

            _overflowCount = 0;
        }

        while (_storage.TryReceive(out var stored, out var lease))
        {
            if (ReturnsRequeued && lease != NoLease)
            {
                SettleLease(lease, DeliveryOutcome.Requeued);
                _queue.Settlement.Returned(stored);
                continue;
            }

            into.Add(stored);
            if (HasLeases)
            {
                SettleLease(lease, DeliveryOutcome.Requeued);
            }
        }
    }

    private async Task ObserveAsync(ValueTask settling, DeliveryOutcome outcome)
    {
        try
        {
            await settling.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.LeaseSettlementFailed(_queue.Bus.Logger, exception, Name, outcome);
        }
    }

    private bool TryTakeParked(out Envelope envelope)
    {
        lock (_lock)
        {
            if (_overflow?.TryDequeue(out envelope) == true)
            {
                _overflowCount = _overflow.Count;
                return true;
            }

            envelope = default;
            return false;
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

            // Created on first use: most queues never park a message.
            var overflow = _overflow ??= new Queue<Envelope>();
            if (overflow.Count >= capacity)
            {
                return EnqueueStatus.OverflowFull;
            }

            overflow.Enqueue(envelope);

            // Published before the move below: a reader that took the storage's last message after the failed write
            // either sees this count and takes the parked message, or took it before the move, which then finds room
            // and wakes it through the storage.
            _overflowCount = overflow.Count;

            // Room may have appeared since the failed write; moving parked messages into it now means a reader that
            // found both empty and went to sleep on the storage is woken.
            while (overflow.TryPeek(out var head) && _storage.TryEnqueue(head))
            {
                overflow.Dequeue();
            }

            _overflowCount = overflow.Count;
        }

        return EnqueueStatus.Accepted;
    }
}
