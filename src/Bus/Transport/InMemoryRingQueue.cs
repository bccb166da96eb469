using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Bus;

/// <summary>
/// The in-memory storage of a queue in <see cref="QueueFullMode.Wait"/> or <see cref="QueueFullMode.Reject"/> mode:
/// a bounded ring of exactly <see cref="QueueOptions.Capacity"/> slots that publishers and consumers claim without a
/// lock (Dmitry Vyukov's bounded multi-producer, multi-consumer queue, in the form of crossbeam's <c>ArrayQueue</c>).
/// </summary>
/// <remarks>
/// <para>
/// Positions: <see cref="Ends.Head"/> and <see cref="Ends.Tail"/> each hold a slot index in their low bits and a lap
/// count above them (<see cref="_oneLap"/> is one lap), so the ring has exactly as many slots as the capacity and no
/// position needs a division. Every slot has a sequence number saying which position may use it next: a publisher
/// may fill slot <c>i</c> at tail position <c>p</c> when its sequence is <c>p</c>, and sets it to <c>p + 1</c> once
/// the message is written; a consumer may empty it at head position <c>p</c> when the sequence is <c>p + 1</c>, and
/// sets it to <c>p + one lap</c>, which is the position of the same slot one lap later. A position is claimed by a
/// compare-and-swap on the head or tail, the only contended write per message; nothing is locked and nothing is
/// allocated. A consumer that finds the next slot claimed but not yet written spins until it is (the publisher is
/// between two instructions), as <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> does.
/// </para>
/// <para>
/// Completion sets <see cref="_markBit"/> in the tail, between the index and the lap bits. A publisher claims a
/// position only by swapping the unmarked tail it read, so every message accepted was claimed before completion and
/// is seen by a consumer that looks after it; none slips in after the last look.
/// </para>
/// <para>
/// Waiting costs nothing per message until someone waits: after each enqueue a publisher reads
/// <see cref="Flags.ConsumerWaiting"/>, after each dequeue a consumer reads <see cref="Flags.PublisherWaiting"/>, and only when
/// a flag is set is a doorbell rung (a channel of one item that drops further rings; waking runs on the thread pool,
/// never inline on the ringer's thread). No wake-up is lost: a waiter empties its doorbell, sets its flag with a full
/// fence, then looks at the head and tail, then waits for a ring. The other side swaps the head or tail (also a full
/// fence) and then reads the flag. Of two threads that each write and then read with a fence in between, at least
/// one sees the other's write: either the waiter sees the new message (or free room) and does not wait, or the other
/// side sees the flag, clears it and rings, after the waiter emptied its doorbell. A ring wakes every waiter. A second
/// waiter that empties the doorbell first sets the flag again and looks before it waits, so it finds the message (or
/// room) itself, and the flag stays set for the waiter that slept on.
/// </para>
/// </remarks>
internal sealed class InMemoryRingQueue : ITransportQueue
{
    /// <summary>The largest capacity given a ring; the ring allocates all its slots up front.</summary>
    public const int MaxCapacity = 1 << 14;

    private readonly Slot[] _slots;
    private readonly int _capacity;
    private readonly long _markBit;
    private readonly long _oneLap;
    private readonly int _lapShift;
    private readonly Channel<bool> _messageBell = CreateDoorbell();
    private readonly Channel<bool> _roomBell = CreateDoorbell();
    private Ends _ends;
    private Flags _flags;

    public InMemoryRingQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _capacity = capacity;
        _markBit = BitOperations.RoundUpToPowerOf2((uint)capacity);
        _oneLap = _markBit << 1;
        _lapShift = BitOperations.Log2((ulong)_oneLap);
        _slots = new Slot[capacity];
        for (var i = 0; i < _slots.Length; i++)
        {
            _slots[i].Sequence = i;
        }
    }

    public int Count
    {
        get
        {
            // Head first: it never passes the tail, so the difference is never negative, only possibly stale.
            var head = Volatile.Read(ref _ends.Head);
            var tail = Volatile.Read(ref _ends.Tail) & ~_markBit;
            return (int)Math.Clamp(Distance(head, tail), 0, _capacity);
        }
    }

    public bool TryEnqueue(in Envelope envelope)
    {
        var spinner = default(SpinWait);
        var slots = _slots;
        var tail = Volatile.Read(ref _ends.Tail);
        while (true)
        {
            if ((tail & _markBit) != 0)
            {
                return false;
            }

            var index = (int)(tail & (_markBit - 1));
            ref var slot = ref slots[index];
            var sequence = Volatile.Read(ref slot.Sequence);
            if (sequence == tail)
            {
                var seen = Interlocked.CompareExchange(ref _ends.Tail, Next(tail, index), tail);
                if (seen == tail)
                {
                    slot.Envelope = envelope;
                    Volatile.Write(ref slot.Sequence, tail + 1);

                    // After the swap, a full fence: see the class remarks.
                    if (Volatile.Read(ref _flags.ConsumerWaiting) != 0)
                    {
                        Ring(ref _flags.ConsumerWaiting, _messageBell);
                    }

                    return true;
                }

                tail = seen;
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (sequence + _oneLap == tail + 1)
            {
                // The slot still holds the message of one lap ago: full, unless a consumer has claimed it and is
                // emptying it right now.
                Interlocked.MemoryBarrier();
                if (Volatile.Read(ref _ends.Head) + _oneLap == tail)
                {
                    return false;
                }
            }

            spinner.SpinOnce(sleep1Threshold: -1);
            tail = Volatile.Read(ref _ends.Tail);
        }
    }

    public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (TryLookForRoom(out var room))
        {
            return new(room);
        }

        _roomBell.Reader.TryRead(out _);
        Interlocked.Exchange(ref _flags.PublisherWaiting, 1);
        if (TryLookForRoom(out room))
        {
            return new(room);
        }

        // The doorbell is completed (false) once the queue is; a ring left in it then reads as true, and the next
        // look finds the completion.
        return _roomBell.Reader.WaitToReadAsync(cancellationToken);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        var spinner = default(SpinWait);
        var slots = _slots;
        var head = Volatile.Read(ref _ends.Head);
        while (true)
        {
            var index = (int)(head & (_markBit - 1));
            ref var slot = ref slots[index];
            var sequence = Volatile.Read(ref slot.Sequence);
            if (sequence == head + 1)
            {
                var seen = Interlocked.CompareExchange(ref _ends.Head, Next(head, index), head);
                if (seen == head)
                {
                    envelope = slot.Envelope;

                    // Cleared, so that the ring does not keep delivered messages alive until the slot is reused.
                    slot.Envelope = default;
                    Volatile.Write(ref slot.Sequence, head + _oneLap);

                    // After the swap, a full fence: see the class remarks.
                    if (Volatile.Read(ref _flags.PublisherWaiting) != 0)
                    {
                        Ring(ref _flags.PublisherWaiting, _roomBell);
                    }

                    return true;
                }

                head = seen;
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (sequence == head)
            {
                // Not written in this lap: empty, unless a publisher has claimed the slot and is writing it now.
                Interlocked.MemoryBarrier();
                if ((Volatile.Read(ref _ends.Tail) & ~_markBit) == head)
                {
                    envelope = default;
                    return false;
                }
            }

            spinner.SpinOnce(sleep1Threshold: -1);
            head = Volatile.Read(ref _ends.Head);
        }
    }

    public ValueTask<bool> WaitToDequeueAsync(CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<bool>(cancellationToken);
        }

        if (TryLookForMessage(out var found))
        {
            return new(found);
        }

        _messageBell.Reader.TryRead(out _);
        Interlocked.Exchange(ref _flags.ConsumerWaiting, 1);
        if (TryLookForMessage(out found))
        {
            return new(found);
        }

        var rung = _messageBell.Reader.WaitToReadAsync(cancellationToken);
        return rung.IsCompletedSuccessfully ? new(rung.Result || HasMessage()) : WaitForMessageAsync(rung);
    }

    public void Complete()
    {
        Interlocked.Or(ref _ends.Tail, _markBit);
        _messageBell.Writer.TryComplete();
        _roomBell.Writer.TryComplete();
    }

    private static Channel<bool> CreateDoorbell() =>
        Channel.CreateBounded<bool>(new BoundedChannelOptions(1)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            AllowSynchronousContinuations = false,
        });

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Ring(ref int waiting, Channel<bool> bell)
    {
        if (Interlocked.Exchange(ref waiting, 0) != 0)
        {
            bell.Writer.TryWrite(true);
        }
    }

    /// <summary>The position after <paramref name="position"/>, whose slot index is <paramref name="index"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long Next(long position, int index) =>
        index + 1 < _capacity ? position + 1 : (position & ~(_oneLap - 1)) + _oneLap;

    /// <summary>How many positions <paramref name="to"/> is after <paramref name="from"/>; both unmarked.</summary>
    private long Distance(long from, long to) =>
        (((to >> _lapShift) - (from >> _lapShift)) * _capacity) + (to & (_markBit - 1)) - (from & (_markBit - 1));

    /// <summary>Whether a message is stored or being stored (a consumer taking it then waits for its writer).</summary>
    private bool HasMessage() => (Volatile.Read(ref _ends.Tail) & ~_markBit) != Volatile.Read(ref _ends.Head);

    /// <summary>
    /// True, with whether to go on, when a consumer need not wait: there is a message (true) or the queue is completed
    /// and empty (false). The tail is read before the head: once the tail is marked it no longer moves.
    /// </summary>
    private bool TryLookForMessage(out bool found)
    {
        var tail = Volatile.Read(ref _ends.Tail);
        if ((tail & ~_markBit) != Volatile.Read(ref _ends.Head))
        {
            found = true;
            return true;
        }

        found = false;
        return (tail & _markBit) != 0;
    }

    /// <summary>True, with whether to go on, when a publisher need not wait: there is room, or the queue is completed.</summary>
    private bool TryLookForRoom(out bool room)
    {
        var tail = Volatile.Read(ref _ends.Tail);
        if ((tail & _markBit) != 0)
        {
            room = false;
            return true;
        }

        // A stale tail can only make the count look smaller: at worst a publisher wakes for nothing and looks again.
        room = Distance(Volatile.Read(ref _ends.Head), tail) < _capacity;
        return room;
    }

    // The doorbell completes with false once the queue is completed; messages may still be waiting then.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> WaitForMessageAsync(ValueTask<bool> rung) =>
        await rung.ConfigureAwait(false) || HasMessage();

    private struct Slot
    {
        public long Sequence;
        public Envelope Envelope;
    }

    /// <summary>The head and the tail, each alone on its cache line: consumers swap one, publishers the other.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 384)]
    private struct Ends
    {
        [FieldOffset(128)]
        public long Head;

        [FieldOffset(256)]
        public long Tail;
    }

    /// <summary>The waiting flags, read after every enqueue and dequeue and rarely written, away from the ends.</summary>
    [StructLayout(LayoutKind.Explicit, Size = 256)]
    private struct Flags
    {
        [FieldOffset(128)]
        public int ConsumerWaiting;

        [FieldOffset(132)]
        public int PublisherWaiting;
    }
}
