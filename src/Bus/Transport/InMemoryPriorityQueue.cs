using System.Diagnostics;

namespace Bus;

/// <summary>
/// The in-memory storage of a queue with priorities (<see cref="QueueOptions.MaxPriority"/>): one first-in-first-out
/// line per priority level, taken from the highest level that holds a message, all under one capacity.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="_lock"/> guards the levels, the count, the completed flag and the waiters. Dropped messages are reported
/// after it is released.
/// </para>
/// <para>
/// Waiting: a consumer that finds the queue empty (or a publisher that finds it full) takes, under the lock, the
/// completion source of everyone waiting for that, and every change that could end the wait completes it, also under
/// the lock. Looking and registering are one step, so no change can fall between them, and all waiters wake together
/// and look again, so no waiter can take another's wake-up. Continuations run asynchronously, never under the lock.
/// A wait allocates its completion source when it has to wait; a queue that is never empty or full allocates nothing.
/// </para>
/// </remarks>
[DebuggerDisplay("Priority queue: {Count}")]
internal sealed class InMemoryPriorityQueue : ITransportQueue
{
    private readonly Lock _lock = new();
    private readonly EnvelopeDeque[] _levels;
    private readonly int _capacity;
    private readonly QueueFullMode _fullMode;
    private readonly Action<Envelope> _onDropped;
    private TaskCompletionSource<bool>? _messageWaiters;
    private TaskCompletionSource<bool>? _roomWaiters;
    private int _count;
    private int _highest = -1;
    private bool _completed;

    public InMemoryPriorityQueue(QueueOptions options, Action<Envelope> onDropped)
    {
        _levels = new EnvelopeDeque[options.MaxPriority + 1];
        for (var i = 0; i < _levels.Length; i++)
        {
            _levels[i] = new EnvelopeDeque();
        }

        _capacity = options.Capacity;
        _fullMode = options.FullMode;
        _onDropped = onDropped;
    }

    public int Count => Volatile.Read(ref _count);

    public bool TryEnqueue(in Envelope envelope)
    {
        var level = Math.Min(envelope.Priority, _levels.Length - 1);
        Envelope dropped;
        lock (_lock)
        {
            if (_completed)
            {
                return false;
            }

            if (_count < _capacity)
            {
                Add(envelope, level);
                return true;
            }

            if (_fullMode is QueueFullMode.Wait or QueueFullMode.Reject)
            {
                return false;
            }

            // Full in a drop mode: the message to drop is one that would be delivered last. A new message of lower
            // priority than everything waiting is that message itself; otherwise, at the lowest waiting level, the
            // newest or oldest waiting one, as in a plain queue.
            var lowest = LowestLevel();
            if (level < lowest)
            {
                dropped = envelope;
            }
            else
            {
                dropped = _fullMode == QueueFullMode.DropNewest ? _levels[lowest].PopBack() : _levels[lowest].PopFront();
                _count--;
                Add(envelope, level);
            }
        }

        _onDropped(dropped);
        return true;
    }

    public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken)
    {
        Task<bool> waiting;
        lock (_lock)
        {
            if (_completed)
            {
                return new(false);
            }

            if (_count < _capacity)
            {
                return new(true);
            }

            waiting = (_roomWaiters ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        return new(cancellationToken.CanBeCanceled ? waiting.WaitAsync(cancellationToken) : waiting);
    }

    public bool TryReceive(out Envelope envelope, out long lease)
    {
        lease = QueueLane.NoLease;
        lock (_lock)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }

            envelope = _levels[_highest].PopFront();
            _count--;
            Wake(ref _roomWaiters, true);

            while (_highest >= 0 && _levels[_highest].Count == 0)
            {
                _highest--;
            }
        }

        return true;
    }

    public ValueTask<bool> WaitToReceiveAsync(CancellationToken cancellationToken)
    {
        Task<bool> waiting;
        lock (_lock)
        {
            if (_count > 0)
            {
                return new(true);
            }

            if (_completed)
            {
                return new(false);
            }

            waiting = (_messageWaiters ??= new(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }

        return new(cancellationToken.CanBeCanceled ? waiting.WaitAsync(cancellationToken) : waiting);
    }

    public ValueTask SettleAsync(long lease, DeliveryOutcome outcome) => default;

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;

            // Consumers look again and find what is left, or the end; publishers learn the queue takes no more.
            Wake(ref _messageWaiters, true);
            Wake(ref _roomWaiters, false);
        }
    }

    public bool TryGetOldestTimestamp(out long timestampTicks)
    {
        // Each level is first in, first out: the oldest message is at the front of one of them.
        timestampTicks = long.MaxValue;
        lock (_lock)
        {
            for (var level = 0; level <= _highest; level++)
            {
                if (_levels[level].Count > 0)
                {
                    timestampTicks = Math.Min(timestampTicks, _levels[level].PeekFront().TimestampTicks);
                }
            }
        }

        return timestampTicks != long.MaxValue;
    }

    private static void Wake(ref TaskCompletionSource<bool>? waiters, bool result)
    {
        if (waiters is { } waiting)
        {
            waiters = null;
            waiting.TrySetResult(result);
        }
    }

    private void Add(in Envelope envelope, int level)
    {
        _levels[level].PushBack(envelope);
        _count++;
        _highest = Math.Max(_highest, level);
        Wake(ref _messageWaiters, true);
    }

    private int LowestLevel()
    {
        var level = 0;
        while (_levels[level].Count == 0)
        {
            level++;
        }

        return level;
    }
}
