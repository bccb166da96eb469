using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

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
/// may fill the slot at tail position <c>p</c> when its sequence is <c>p</c>, and sets it to <c>p + 1</c> once the
/// message is written; a consumer may empty it at head position <c>p</c> when the sequence is <c>p + 1</c>, and sets
/// it to <c>p + one lap</c>, the position of the same slot one lap later. A position is claimed by a compare-and-swap
/// on the head or tail, the only contended write per message; nothing is locked and nothing is allocated. A consumer
/// that finds the next slot claimed but not yet written spins until it is (its publisher is between two
/// instructions), as <see cref="System.Collections.Concurrent.ConcurrentQueue{T}"/> does.
/// </para>
/// <para>
/// Completion sets <see cref="_markBit"/> in the tail, between the index and the lap bits. A publisher claims a
/// position only by swapping the unmarked tail it read, so every message accepted was claimed before the completion
/// and is found by a consumer that looks after it (waiting, if need be, for its publisher to finish writing it).
/// </para>
/// <para>
/// Waiting costs nothing per message until someone waits: after each enqueue a publisher reads the consumers'
/// <see cref="Waiters.Waiting"/> flag, after each dequeue a consumer reads the publishers', and only when it is set
/// does it take the waiters' lock and wake them. No wake-up is lost: a waiter adds itself to the list and sets the flag
/// (an interlocked write, a full fence) under the lock, then looks at the head and tail, then waits. The other side
/// swaps the head or tail (also a full fence), then reads the flag. Of two threads that each write and then read with
/// a full fence in between, at least one sees the other's write: either the waiter sees the new message (or free
/// room) and withdraws, or the other side reads the flag as set, or as cleared by a later wake that took the waiter
/// with it, and a waiter is woken. Publishers are woken all at once, each its own waiter, so no publisher can take
/// another's wake-up. Consumers are woken one per message, and none while a consumer woken earlier has yet to run; that
/// is enough because a woken consumer takes messages until there are none before it waits again, so the message it was
/// woken for is taken, by it or by a consumer already awake. (The woken consumer clears <see cref="Waiters.WakePending"/>
/// with a full fence before it looks, and the publisher reads it after its swap: one of them sees the other.) A
/// consumer that takes a message and finds more wakes the next, so a burst is shared out. This relies on every woken
/// wait being awaited (its result read): the bus's workers always do, and the queue is internal to the bus.
/// Continuations run on the thread pool, never inline on the waking thread. One waiter per side is reused, so a queue
/// with one consumer allocates nothing to wait; a wait with a cancellable token, or a second wait at the same time,
/// allocates its waiter.
/// </para>
/// <para>
/// Workers that report their presence (<see cref="IConsumerPresence"/>) go further: while one of them is taking
/// messages, a new message wakes no one and a take shares nothing out, because that worker takes it. Measured on two
/// cores with four competing consumers, waking the others only made them fight over the head from both cores: the
/// queue's throughput fell to two thirds of a queue with one consumer. The same argument keeps wake-ups from being
/// lost: a worker lowers <see cref="Waiters.Taking"/> (a full fence) and then looks at the tail, before it waits or
/// when its delivery goes asynchronous (then sharing out); the publisher swaps the tail, then reads the count. A worker
/// that stays in synchronous work for long (a slow or blocking consumer) would hold the others asleep, and so would a
/// woken one that blocks on its first message, so a publisher that woke no one while consumers sleep arms a
/// <see cref="StallCheck"/>: every <see cref="StallCheckPeriod"/> (on the system clock), while messages wait and
/// consumers sleep, it wakes one more when no message was taken since it last looked, and, when messages were taken
/// but the consumers never ran out of them, while those taking leave a core free (see <see cref="CheckForStall"/>).
/// </para>
/// </remarks>
internal sealed class InMemoryRingQueue : ITransportQueue, IConsumerPresence
{
    /// <summary>The largest capacity given a ring; the ring allocates all its slots up front.</summary>
    public const int MaxCapacity = 1 << 14;

    /// <summary>How often the stall check looks, while armed, whether the consumers taking messages are stuck.</summary>
    internal static readonly TimeSpan StallCheckPeriod = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// While consumers taking messages make progress, the stall check adds one only while fewer than this many are
    /// taking: one core is left to the publishers.
    /// </summary>
    internal static readonly int BusyTakersLimit = Environment.ProcessorCount - 1;

    private readonly Slot[] _slots;
    private readonly int _capacity;
    private readonly long _markBit;
    private readonly long _oneLap;
    private readonly int _lapShift;
    private readonly Waiters _messageWaiters = new();
    private readonly Waiters _roomWaiters = new();
    private readonly TimeProvider _time;
    private StallCheck? _stallCheck;
    private int _drained;
    private long _stallCheckHead;
    private bool _consumersReport;
    private Ends _ends;

    /// <param name="capacity">The number of slots.</param>
    /// <param name="time">
    /// The stall check's clock: the system's, unless a test of this class gives one. Never the bus's clock, which tests
    /// replace with a fake one: the stall check keeps messages moving, which no test should have to move a clock for.
    /// </param>
    public InMemoryRingQueue(int capacity, TimeProvider? time = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(capacity, MaxCapacity);
        _capacity = capacity;
        _time = time ?? TimeProvider.System;
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

                    // After the swap, a full fence: see the class remarks. One message wants one consumer, and a
                    // consumer already woken but not yet running, or one taking messages, will take it too: waking
                    // more would send idle consumers through the thread pool to find the message gone.
                    if (Volatile.Read(ref _messageWaiters.Waiting) != 0)
                    {
                        WakeOrWatch();
                    }

                    return true;
                }

                tail = seen;
                spinner.SpinOnce(sleep1Threshold: -1);
                continue;
            }

            if (sequence + _oneLap == tail + 1)
            {
                // The slot still holds the message of one lap ago: full, unless a consumer has claimed that message
                // and is taking it out right now.
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

        var waiter = _roomWaiters.Add(cancellationToken);
        if (waiter is null)
        {
            return new(false);
        }

        if (TryLookForRoom(out room))
        {
            _roomWaiters.Withdraw(waiter, room);
        }

        return waiter.AsValueTask();
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
                    if (Volatile.Read(ref _roomWaiters.Waiting) != 0)
                    {
                        _roomWaiters.WakeAll(true);
                    }

                    ShareOutAfterTake();
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

    /// <summary>
    /// Called by a consumer that took a message from elsewhere than this ring (a queue's overflow) and by a worker whose
    /// delivery went asynchronous: when messages wait here and consumers sleep, <see cref="WakeOrWatch"/>.
    /// </summary>
    public void ShareOut()
    {
        if (Volatile.Read(ref _messageWaiters.Waiting) != 0 && HasMessage())
        {
            WakeOrWatch();
        }
    }

    /// <summary>
    /// Messages wait and consumers sleep: wakes one when no consumer is taking messages and none is on its way, and
    /// otherwise arms the stall check, since those taking may be stuck.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WakeOrWatch()
    {
        if (Volatile.Read(ref _messageWaiters.WakePending) == 0 && Volatile.Read(ref _messageWaiters.Taking) == 0)
        {
            _messageWaiters.WakeOne();
        }
        else if (_consumersReport && _stallCheck is not { IsArmed: true })
        {
            WatchForStall();
        }
    }

    /// <summary>
    /// After a take: wakes the next sleeping consumer when more messages wait and no consumer is taking them or on its
    /// way, so that a burst is shared out rather than left to whoever woke first. Only consumers that do not report
    /// their presence get here with no one taking; for workers that do, the taker itself is counted, and this costs
    /// two reads.
    /// </summary>
    private void ShareOutAfterTake()
    {
        if (Volatile.Read(ref _messageWaiters.Waiting) != 0 && Volatile.Read(ref _messageWaiters.WakePending) == 0
            && Volatile.Read(ref _messageWaiters.Taking) == 0 && HasMessage())
        {
            _messageWaiters.WakeOne();
        }
    }

    public void Resume()
    {
        if (!_consumersReport)
        {
            _consumersReport = true;
        }

        Interlocked.Increment(ref _messageWaiters.Taking);
    }

    public void Pause(bool shareOut)
    {
        // The decrement is a full fence: a publisher that read the old count (and so woke no one) wrote its message
        // before, and the look at the tail in ShareOut sees it.
        var taking = Interlocked.Decrement(ref _messageWaiters.Taking);
        Debug.Assert(taking >= 0, "A worker paused more often than it resumed.");
        if (shareOut)
        {
            ShareOut();
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

        // The consumers ran out of messages: the stall check learns that they are keeping up.
        Volatile.Write(ref _drained, 1);
        var waiter = _messageWaiters.Add(cancellationToken);
        if (waiter is null)
        {
            return new(HasMessage());
        }

        if (TryLookForMessage(out found))
        {
            _messageWaiters.Withdraw(waiter, found);
        }

        return waiter.AsValueTask();
    }

    public void Complete()
    {
        Interlocked.Or(ref _ends.Tail, _markBit);

        // No message can be added now: consumers learn whether any is left, publishers that there is no room to wait for.
        _messageWaiters.Complete(HasMessage());
        _roomWaiters.Complete(false);
    }

    /// <summary>
    /// Arms the stall check: a publisher woke no one because a consumer is taking messages or was just woken to, while
    /// others sleep. If that consumer is stuck in long synchronous work, the sleepers must not sleep through the
    /// messages piling up. Only for workers that report their presence: other consumers share bursts out themselves.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void WatchForStall()
    {
        // Only what happens from now on shows whether the consumers keep up.
        Volatile.Write(ref _drained, 0);
        Volatile.Write(ref _stallCheckHead, Volatile.Read(ref _ends.Head));
        var check = _stallCheck;
        if (check is null)
        {
            var created = new StallCheck(_time, StallCheckPeriod, CheckForStall, IsWorthWatching);
            check = Interlocked.CompareExchange(ref _stallCheck, created, null) ?? created;
        }

        check.Arm();
    }

    /// <summary>
    /// The stall check's tick, while messages wait and consumers sleep. When no message was taken since the last look,
    /// the consumers taking them are stuck (blocked, or in long synchronous work): one more is woken, always, so that no
    /// message waits for them. When messages were taken but the consumers never ran out of them, there is more work than
    /// they do: one more is woken only while those taking leave a core free (<see cref="BusyTakersLimit"/>), since more
    /// synchronous consumers than cores only take turns, and on 2 cores fight over the ring's head. Returns false when
    /// there is nothing left to watch.
    /// </summary>
    private bool CheckForStall()
    {
        if (!IsWorthWatching())
        {
            return false;
        }

        var head = Volatile.Read(ref _ends.Head);
        var stuck = head == _stallCheckHead;
        _stallCheckHead = head;
        var drained = Interlocked.Exchange(ref _drained, 0) != 0;
        if ((stuck || (!drained && Volatile.Read(ref _messageWaiters.Taking) < BusyTakersLimit))
            && Volatile.Read(ref _messageWaiters.WakePending) == 0)
        {
            _messageWaiters.WakeOne();
        }

        return true;
    }

    private bool IsWorthWatching() => Volatile.Read(ref _messageWaiters.Waiting) != 0 && HasMessage();

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
    /// True, with what to answer, when a consumer need not wait: there is a message (true), or the queue is completed
    /// and empty (false). The tail is read first: once it is marked it no longer moves.
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

    /// <summary>
    /// True, with what to answer, when a publisher need not wait: there is room (true), or the queue is completed
    /// (false).
    /// </summary>
    private bool TryLookForRoom(out bool room)
    {
        var tail = Volatile.Read(ref _ends.Tail);
        if ((tail & _markBit) != 0)
        {
            room = false;
            return true;
        }

        // The tail is read first, so the count can only look smaller than it is: at worst a publisher looks again.
        room = Distance(Volatile.Read(ref _ends.Head), tail) < _capacity;
        return room;
    }

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

    /// <summary>
    /// The consumers (or the publishers) waiting: consumers are woken one per message, publishers all at once when room
    /// appears (so that one held up writes a run), and everyone at completion. The lock is taken only to wait and to wake;
    /// <see cref="Waiting"/> tells the other side, without it, whether there may be anyone to wake.
    /// </summary>
    private sealed class Waiters
    {
        /// <summary>1 while the list may hold a waiter; read after every enqueue (or dequeue).</summary>
        public int Waiting;

        /// <summary>
        /// 1 from <see cref="WakeOne"/> waking a consumer until that consumer runs again (its <see cref="Waiter.GetResult"/>
        /// clears it, with a full fence, before it takes messages): meanwhile a new message needs no other wake-up,
        /// because the woken consumer takes every message there is before it waits again.
        /// </summary>
        public int WakePending;

        /// <summary>
        /// How many of the queue's workers are taking messages (see <see cref="IConsumerPresence"/>): while one is, a
        /// new message wakes no one. Consumers that do not report their presence leave it at 0.
        /// </summary>
        public int Taking;

        private readonly Lock _lock = new();
        private readonly Waiter _reusable;
        private Waiter? _first;
        private bool? _completedWith;
        private int _reusableTaken;

        public Waiters() => _reusable = new Waiter(this, reusable: true);

        /// <summary>Adds a waiter, or returns null when the queue is completed.</summary>
        public Waiter? Add(CancellationToken cancellationToken)
        {
            var waiter = !cancellationToken.CanBeCanceled && Interlocked.Exchange(ref _reusableTaken, 1) == 0
                ? _reusable
                : new Waiter(this, reusable: false);
            lock (_lock)
            {
                if (_completedWith is not null)
                {
                    Release(waiter);
                    return null;
                }

                waiter.Next = _first;
                _first = waiter;
                Interlocked.Exchange(ref Waiting, 1);
            }

            if (cancellationToken.CanBeCanceled)
            {
                // Registered after it is listed: a token cancelled by now runs the callback here, which withdraws it.
                waiter.Registration = cancellationToken.UnsafeRegister(
                    static (state, token) =>
                    {
                        var cancelled = (Waiter)state!;
                        cancelled.Owner.Remove(cancelled);
                        cancelled.TryComplete(false, token);
                    },
                    waiter);
            }

            return waiter;
        }

        /// <summary>Takes a waiter that need not wait out of the list and completes it.</summary>
        public void Withdraw(Waiter waiter, bool result)
        {
            Remove(waiter);
            waiter.TryComplete(result, default);
        }

        [MethodImpl(MethodImplOptions.NoInlining)]
        public void WakeAll(bool result)
        {
            // Completed under the lock, which only queues their continuations: a waiter completed outside it could be
            // reused and listed again while this loop still held it.
            lock (_lock)
            {
                var waiter = _first;
                _first = null;
                Waiting = 0;
                while (waiter is not null)
                {
                    var next = waiter.Next;
                    waiter.Next = null;
                    waiter.TryComplete(result, default);
                    waiter = next;
                }
            }
        }

        /// <summary>
        /// Wakes one waiter, for one new message. Others stay listed, so <see cref="Waiting"/> stays set and the next
        /// message wakes the next one. The woken consumer takes messages until there are none before it waits again, so
        /// a message that another consumer took first leaves nothing behind. A waiter already completed by its
        /// cancellation cannot take the wake-up: the next one gets it.
        /// </summary>
        [MethodImpl(MethodImplOptions.NoInlining)]
        public void WakeOne()
        {
            lock (_lock)
            {
                if (_first is { } waiter)
                {
                    _first = waiter.Next;
                    waiter.Next = null;

                    // Marked before it completes: its continuation may run at once, and must find the mark to clear. A
                    // listed waiter is not complete: cancelling and withdrawing take it off the list, under this lock,
                    // before they complete it.
                    waiter.WokenToTake = true;
                    Interlocked.Exchange(ref WakePending, 1);
                    var woken = waiter.TryComplete(true, default);
                    Debug.Assert(woken, "A listed waiter was already complete.");
                }

                if (_first is null)
                {
                    Waiting = 0;
                }
            }
        }

        public void Complete(bool result)
        {
            lock (_lock)
            {
                _completedWith = result;
            }

            WakeAll(result);
        }

        public void Release(Waiter waiter)
        {
            if (waiter.IsReusable)
            {
                Volatile.Write(ref _reusableTaken, 0);
            }
        }

        private void Remove(Waiter waiter)
        {
            lock (_lock)
            {
                ref var link = ref _first;
                while (link is not null)
                {
                    if (link == waiter)
                    {
                        link = waiter.Next;
                        waiter.Next = null;
                        break;
                    }

                    link = ref link.Next;
                }

                if (_first is null)
                {
                    Waiting = 0;
                }
            }
        }
    }

    /// <summary>One wait, completed once: by a wake, a withdrawal, the completion or a cancellation.</summary>
    private sealed class Waiter(Waiters owner, bool reusable) : IValueTaskSource<bool>
    {
        public Waiter? Next;
        public CancellationTokenRegistration Registration;

        /// <summary>Woken by <see cref="Waiters.WakeOne"/>: its owner's <see cref="Waiters.WakePending"/> is cleared when it runs.</summary>
        public volatile bool WokenToTake;
        private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };
        private int _completed;

        public Waiters Owner => owner;

        public bool IsReusable => reusable;

        public ValueTask<bool> AsValueTask() => new(this, _core.Version);

        /// <summary>Completes the wait unless something else did first; false then.</summary>
        public bool TryComplete(bool result, CancellationToken cancelled)
        {
            if (Interlocked.Exchange(ref _completed, 1) != 0)
            {
                return false;
            }

            if (cancelled.IsCancellationRequested)
            {
                _core.SetException(new OperationCanceledException(cancelled));
            }
            else
            {
                _core.SetResult(result);
            }

            return true;
        }

        public bool GetResult(short token)
        {
            // A misuse (a stale token, or a result asked for before the wait ended) throws here and leaves the waiter as
            // it is: resetting a waiter that is still listed would hand it to a second wait while the first can wake it.
            if (token != _core.Version || _core.GetStatus(token) == ValueTaskSourceStatus.Pending)
            {
                throw new InvalidOperationException("The wait's result was asked for twice, or before the wait ended.");
            }

            if (WokenToTake)
            {
                WokenToTake = false;
                Interlocked.Exchange(ref owner.WakePending, 0);
            }

            try
            {
                return _core.GetResult(token);
            }
            finally
            {
                // Unregister, not Dispose: this may run inside the cancellation callback's continuation.
                Registration.Unregister();
                if (reusable)
                {
                    _core.Reset();
                    _completed = 0;
                    owner.Release(this);
                }
            }
        }

        public ValueTaskSourceStatus GetStatus(short token) => _core.GetStatus(token);

        public void OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
            _core.OnCompleted(continuation, state, token, flags);
    }
}
