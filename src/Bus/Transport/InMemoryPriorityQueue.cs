using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Bus;

/// <summary>
/// The in-memory storage of a queue with priorities (<see cref="QueueOptions.MaxPriority"/>): one first-in-first-out
/// line per priority level, taken from the highest level that holds a message, all under one capacity.
/// </summary>
/// <remarks>
/// <para>
/// <see cref="_lock"/> guards the levels, the count and the completed flag. Only the doorbells are called while it is
/// held (they wake waiters asynchronously and never call back); dropped messages are reported after it is released.
/// </para>
/// <para>
/// Waiting uses two doorbells: channels of one item that drop further rings. A waiter empties the doorbell, then looks
/// at the count, then waits for a ring. The count changes before the ring, so a change made after the waiter looked is
/// rung after it emptied the doorbell, and the waiter wakes. Rings come only on the transitions a waiter waits for
/// (empty to one, full to one free); when a second consumer empties the doorbell first, that consumer finds the
/// message and drains the storage before it waits again, so no message is left behind.
/// </para>
/// </remarks>
internal sealed class InMemoryPriorityQueue : ITransportQueue
{
    private readonly Lock _lock = new();
    private readonly EnvelopeDeque[] _levels;
    private readonly int _capacity;
    private readonly QueueFullMode _fullMode;
    private readonly Action<Envelope> _onDropped;
    private readonly Channel<bool> _messageBell = CreateDoorbell();
    private readonly Channel<bool> _roomBell = CreateDoorbell();
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
        _roomBell.Reader.TryRead(out _);
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
        }

        return _roomBell.Reader.WaitToReadAsync(cancellationToken);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_lock)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }

            envelope = _levels[_highest].PopFront();
            if (_count-- == _capacity)
            {
                _roomBell.Writer.TryWrite(true);
            }

            while (_highest >= 0 && _levels[_highest].Count == 0)
            {
                _highest--;
            }
        }

        return true;
    }

    public ValueTask<bool> WaitToDequeueAsync(CancellationToken cancellationToken)
    {
        _messageBell.Reader.TryRead(out _);
        if (Count > 0)
        {
            return new(true);
        }

        var rung = _messageBell.Reader.WaitToReadAsync(cancellationToken);
        return rung.IsCompletedSuccessfully ? new(rung.Result || Count > 0) : WaitForMessageAsync(rung);
    }

    public void Complete()
    {
        lock (_lock)
        {
            _completed = true;
        }

        _messageBell.Writer.TryComplete();
        _roomBell.Writer.TryComplete();
    }

    private static Channel<bool> CreateDoorbell() =>
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            AllowSynchronousContinuations = false,
        });

    private void Add(in Envelope envelope, int level)
    {
        _levels[level].PushBack(envelope);
        _count++;
        _highest = Math.Max(_highest, level);
        if (_count == 1)
        {
            _messageBell.Writer.TryWrite(true);
        }
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

    // The doorbell completes with false once the queue is completed; messages may still be waiting then.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitForMessageAsync(ValueTask<bool> rung) =>
        await rung.ConfigureAwait(false) || Count > 0;
}
