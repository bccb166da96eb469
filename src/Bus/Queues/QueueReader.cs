using System.Diagnostics;

namespace Bus;

/// <summary>
/// Reads one lane for its consumer slots: takes messages, fills a free slot, and runs it on its own thread while the
/// consumers complete synchronously. A slot whose consumer goes asynchronous carries on by itself and comes back when
/// done, while the reader fills the next free slot; so asynchronous consumers run as many at once as there are slots,
/// and consumers that return at once run on one thread, without handing messages between threads.
/// </summary>
/// <remarks>
/// <para>
/// Read loops: normally one. A loop that finds the lane empty waits on it, unless another loop is already idle
/// (waiting on the lane or for a free slot), in which case it ends: at most one loop waits, so a new message wakes one
/// thread at most, and four competing consumers that return at once cost what one does. A consumer that blocks its
/// thread holds its loop; when the queue has more than one slot, the <see cref="StallWatch"/> (a timer of the system
/// clock, running only while the lane is busy) starts another loop once every loop has been stuck in a consumer for a
/// tick while messages wait and a slot is free, and that loop ends again after a run once no loop is stuck.
/// </para>
/// <para>
/// <see cref="_lock"/> guards the loops, the free slots and the counts below; it is taken when a loop goes idle or
/// wakes, when a slot that went asynchronous comes back, and by the watch, never per message by a loop that keeps
/// finding messages. No user code runs under it.
/// </para>
/// <para>
/// Stopping: once the queue aborts, loops end at their next look and set aside what their slots hold; the stop takes
/// over the slots whose consumers still run, and collects the lane once <see cref="WhenQuietAsync"/> says no loop will
/// take from it again and no slot is busy.
/// </para>
/// </remarks>
[DebuggerDisplay("Reader of {Lane.Name,nq}: {_loops.Count} loops, {_free.Count} free slots")]
internal sealed class QueueReader
{
    private readonly Lock _lock = new();
    private readonly ConsumerSlot[] _slots;
    private readonly Stack<ConsumerSlot> _free;
    private readonly List<ReadLoop> _loops = [];
    private readonly SlotSignal _slotFreed = new();
    private readonly StallWatch? _watch;
    private TaskCompletionSource? _quiet;
    private int _idle;
    private int _busySlots;
    private bool _waitingForSlot;

    // Read loops stuck in a consumer at the watch's last look (the watch writes it under the lock; loops read it to retire).
    private volatile int _stuckLoops;
    private volatile int _loopCount;
    private int _faults;

    // Loops waiting on the empty lane, each holding a slot with nothing in it (written under the lock).
    private int _listening;

    public QueueReader(BusQueue queue, QueueLane lane, int firstIndex, int slotCount, BatchConsumerRegistration? batch)
    {
        Queue = queue;
        Lane = lane;
        _slots = new ConsumerSlot[slotCount];
        for (var i = 0; i < slotCount; i++)
        {
            _slots[i] = batch is null ? new MessageSlot(this, firstIndex + i) : new BatchSlot(this, firstIndex + i, batch);
        }

        _free = new Stack<ConsumerSlot>(Enumerable.Reverse(_slots));
        _watch = slotCount > 1 ? new StallWatch(this) : null;
    }

    public BusQueue Queue { get; }

    public QueueLane Lane { get; }

    /// <summary>
    /// Slots consuming, holding prefetched messages, or settling: those taken from the pool, less the one a loop holds
    /// while it waits on the empty lane. Read without the lock, for the monitor, so it may be off by one for a moment.
    /// </summary>
    public int BusySlots => Math.Max(0, Volatile.Read(ref _busySlots) - Volatile.Read(ref _listening));

    /// <summary>Read loops that ended on a failure of the bus itself (log event 33), for the monitor and health checks.</summary>
    public int Faults => Volatile.Read(ref _faults);

    public void Start()
    {
        lock (_lock)
        {
            StartLoopLocked();
            _watch?.Arm();
        }
    }

    /// <summary>Wakes a loop waiting for a free slot, so that it sees the abort and ends.</summary>
    public void Abort()
    {
        lock (_lock)
        {
            WakeSlotWaiter(false);
        }
    }

    /// <summary>
    /// Takes over every slot whose consumer is still running after the stop gave up waiting: the report decides what
    /// became of their messages.
    /// </summary>
    public void TakeOver(List<UnprocessedMessage> into)
    {
        foreach (var slot in _slots)
        {
            if (slot.TryTakeOver(into))
            {
                lock (_lock)
                {
                    _busySlots--;
                    CheckQuietLocked();
                }
            }
        }
    }

    /// <summary>
    /// Completes when no loop will take from the lane again and no slot is busy: every loop has ended or is stuck in a
    /// consumer whose slot was taken over, and every slot is free or taken over.
    /// </summary>
    public Task WhenQuietAsync()
    {
        lock (_lock)
        {
            return IsQuietLocked() ? Task.CompletedTask : (_quiet ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
    }

    /// <summary>A slot that went asynchronous is done: back to the pool, and to a loop waiting for it.</summary>
    public void Release(ConsumerSlot slot)
    {
        lock (_lock)
        {
            ReleaseLocked(slot);
        }
    }

    /// <summary>The stall watch's look, every tick while armed, under the lock the watch is armed under.</summary>
    internal void OnStallTick(StallWatch watch)
    {
        lock (_lock)
        {
            if (!watch.IsArmed)
            {
                return;
            }

            // A loop is stuck when it is inside a consumer and has started no run since the last look.
            var moved = false;
            var stuck = 0;
            foreach (var loop in _loops)
            {
                var runs = Volatile.Read(ref loop.Runs);
                if (runs != loop.SeenRuns)
                {
                    moved = true;
                }
                else if (Volatile.Read(ref loop.Inline) is not null)
                {
                    stuck++;
                }

                loop.SeenRuns = runs;
            }

            if (Queue.IsClosed || _loops.Count == 0 || (!moved && _idle > 0))
            {
                // Stopping, or a loop waits for messages or for a slot and nothing moved: nothing is stuck, and nothing
                // needs watching until that loop wakes.
                _stuckLoops = 0;
                watch.DisarmLocked();
                return;
            }

            _stuckLoops = stuck;

            // Every loop is stuck in a consumer: if messages wait and a slot is free, one more loop takes them. It ends
            // again once no loop is stuck (see RetireIfUnneeded), so a loop the operating system merely held back for a
            // tick does not leave two loops fighting over the lane.
            if (stuck == _loops.Count && _idle == 0 && _free.Count > 0 && Lane.Depth > 0)
            {
                StartLoopLocked();
            }
        }
    }

    /// <summary>Stops the stall watch for good, once the queue is stopped or deleted.</summary>
    public void StopWatching()
    {
        lock (_lock)
        {
            _watch?.Dispose();
        }
    }

    private void StartLoopLocked()
    {
        var loop = new ReadLoop();
        _loops.Add(loop);
        _loopCount = _loops.Count;
        // The loop belongs to the queue, not to whoever started it: it does not take the caller's execution context.
        using (ExecutionContext.SuppressFlow())
        {
            loop.Ended = Task.Run(() => RunAsync(loop));
        }
    }

    private async Task RunAsync(ReadLoop loop)
    {
        ConsumerSlot? slot = null;
        try
        {
            while (!Queue.IsAborted)
            {
                if (slot is null)
                {
                    var taken = TakeSlot(out slot);
                    if (taken == SlotTaken.Retire)
                    {
                        return;
                    }

                    if (taken == SlotTaken.Wait)
                    {
                        await _slotFreed.WaitAsync().ConfigureAwait(false);
                        lock (_lock)
                        {
                            _idle--;
                            _watch?.Arm();
                        }

                        continue;
                    }
                }

                if (!slot!.TryFill())
                {
                    if (!BeginListening())
                    {
                        return;
                    }

                    bool more;
                    try
                    {
                        more = await Lane.WaitToTakeAsync().ConfigureAwait(false);
                    }
                    finally
                    {
                        EndListening();
                    }

                    if (!more && !Lane.HasParked)
                    {
                        return;
                    }

                    continue;
                }

                await slot.CollectAsync().ConfigureAwait(false);
                Volatile.Write(ref loop.Runs, loop.Runs + 1);
                Volatile.Write(ref loop.Inline, slot);
                var finished = slot.RunInline();
                Volatile.Write(ref loop.Inline, null);
                if (!finished)
                {
                    // It went asynchronous and comes back by itself, or the stop took it over.
                    slot = null;
                }
                else if (_loopCount > 1 && _stuckLoops == 0 && RetireIfUnneeded())
                {
                    return;
                }
            }
        }
        catch (Exception exception)
        {
            Interlocked.Increment(ref _faults);
            Log.ReaderBroke(Queue.Bus.Logger, exception, Lane.Name);
        }
        finally
        {
            if (slot is not null)
            {
                // The queue aborted (or the lane closed) while this loop held the slot: what it holds goes to the report.
                slot.SetAsideHeld();
            }

            lock (_lock)
            {
                if (slot is not null)
                {
                    ReleaseLocked(slot);
                }

                _loops.Remove(loop);
                _loopCount = _loops.Count;
                CheckQuietLocked();
            }
        }
    }

    /// <summary>An extra loop that is no longer needed ends: no loop is stuck, and another loop goes on reading.</summary>
    private bool RetireIfUnneeded()
    {
        lock (_lock)
        {
            return _loops.Count > 1 && _stuckLoops == 0;
        }
    }

    private SlotTaken TakeSlot(out ConsumerSlot? slot)
    {
        lock (_lock)
        {
            // Under the lock Abort takes to wake a waiter: either this sees the abort, or Abort sees this waiting.
            if (Queue.IsAborted)
            {
                slot = null;
                return SlotTaken.Retire;
            }

            if (_free.TryPop(out slot))
            {
                slot.MarkHeld();
                _busySlots++;
                return SlotTaken.Got;
            }

            if (_idle > 0)
            {
                return SlotTaken.Retire;
            }

            _idle++;
            _slotFreed.Reset();
            _waitingForSlot = true;
            return SlotTaken.Wait;
        }
    }

    /// <summary>A loop found the lane empty: it waits on the lane, or ends when another loop is idle already.</summary>
    private bool BeginListening()
    {
        lock (_lock)
        {
            if (_idle > 0)
            {
                return false;
            }

            _idle++;
            _listening++;
            return true;
        }
    }

    private void EndListening()
    {
        lock (_lock)
        {
            _idle--;
            _listening--;
            _watch?.Arm();
        }
    }

    private void ReleaseLocked(ConsumerSlot slot)
    {
        slot.MarkFree();
        _free.Push(slot);
        _busySlots--;
        WakeSlotWaiter(true);
        CheckQuietLocked();
    }

    private void WakeSlotWaiter(bool freed)
    {
        if (_waitingForSlot)
        {
            _waitingForSlot = false;
            _slotFreed.Set(freed);
        }
    }

    /// <summary>Quiet lasts once reached: the lane is closed, so no loop starts again, and no slot is taken without a loop.</summary>
    private void CheckQuietLocked()
    {
        Debug.Assert(_busySlots >= 0, "More slots released than taken.");
        if (_quiet is not null && IsQuietLocked())
        {
            _quiet.TrySetResult();
            _quiet = null;
        }
    }

    private bool IsQuietLocked()
    {
        if (_busySlots != 0)
        {
            return false;
        }

        foreach (var loop in _loops)
        {
            if (Volatile.Read(ref loop.Inline)?.State != ConsumerSlot.TakenOver)
            {
                return false;
            }
        }

        return true;
    }

    private enum SlotTaken
    {
        Got,
        Wait,
        Retire,
    }

    /// <summary>One read loop: the slot it runs on its thread right now, its runs, and its task, which ends with it.</summary>
    private sealed class ReadLoop
    {
        public ConsumerSlot? Inline;

        // Written by the loop alone; read by the stall watch, which keeps what it saw at its last look in SeenRuns.
        public long Runs;

        public long SeenRuns;

        public Task Ended { get; set; } = Task.CompletedTask;
    }
}
