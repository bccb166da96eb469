using System.Diagnostics;

namespace Bus;

/// <summary>
/// Messages waiting for a delayed retry, outside any worker: one timer from the bus's <see cref="TimeProvider"/>, set for
/// the earliest due time. When it fires, every due message re-enters its queue.
/// </summary>
/// <remarks>
/// <see cref="_lock"/> guards the schedule. Timer changes are serialized by <see cref="_timerLock"/> and made outside
/// <see cref="_lock"/>, because a fake clock may fire the callback inside <see cref="ITimer.Change"/>; the callback
/// takes <see cref="_lock"/> only to remove due messages and hands them to their queues after releasing it.
/// </remarks>
[DebuggerDisplay("{Count} waiting")]
internal sealed class DelayedDeliveries : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Lock _timerLock = new();
    private readonly PriorityQueue<Entry, (long DueTicks, long Sequence)> _schedule = new();
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly ITimer _timer;
    private long _sequence;
    private long _armedTicks = long.MaxValue;
    private bool _closed;
    private int _firing;

    public DelayedDeliveries(TimeProvider time, int capacity)
    {
        _time = time;
        _capacity = capacity;
        _timer = time.CreateTimer(static state => ((DelayedDeliveries)state!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _schedule.Count;
            }
        }
    }

    /// <summary>Schedules a message.</summary>
    public ScheduleResult TrySchedule(BusQueue queue, in Envelope envelope, TimeSpan delay)
    {
        var due = _time.GetUtcNow().UtcTicks + Math.Min(delay.Ticks, TimeSpan.MaxValue.Ticks - _time.GetUtcNow().UtcTicks);
        lock (_lock)
        {
            if (_closed)
            {
                return ScheduleResult.Closed;
            }

            if (_schedule.Count >= _capacity)
            {
                return ScheduleResult.Full;
            }

            _schedule.Enqueue(new Entry(queue, envelope), (due, _sequence++));
        }

        Arm();
        return ScheduleResult.Scheduled;
    }

    /// <summary>
    /// Closes the schedule for the stop: nothing more is scheduled or comes due. Returns what was still waiting, once
    /// any message that was just coming due has been handed to its queue, so the stop report misses nothing.
    /// </summary>
    public List<(BusQueue Queue, Envelope Envelope)> CloseAndTakeAll()
    {
        var all = new List<(BusQueue, Envelope)>();
        lock (_lock)
        {
            _closed = true;
            while (_schedule.TryDequeue(out var entry, out _))
            {
                all.Add((entry.Queue, entry.Envelope));
            }
        }

        WaitForFiring();
        return all;
    }

    /// <summary>Removes and returns what waits for one queue (it is being deleted), once nothing for it is coming due.</summary>
    public List<Envelope> TakeAll(BusQueue queue)
    {
        var taken = new List<Envelope>();
        lock (_lock)
        {
            var kept = new List<(Entry, (long, long))>();
            while (_schedule.TryDequeue(out var entry, out var priority))
            {
                if (entry.Queue == queue)
                {
                    taken.Add(entry.Envelope);
                }
                else
                {
                    kept.Add((entry, priority));
                }
            }

            _schedule.EnqueueRange(kept);
        }

        WaitForFiring();
        return taken;
    }

    public void Dispose() => _timer.Dispose();

    /// <summary>Waits out a callback that took due messages and is handing them to their queues.</summary>
    private void WaitForFiring()
    {
        var wait = new SpinWait();
        while (Volatile.Read(ref _firing) != 0)
        {
            wait.SpinOnce();
        }
    }

    private void OnDue()
    {
        List<Entry>? due = null;
        lock (_lock)
        {
            if (_closed)
            {
                return;
            }

            // Counted under the lock, so CloseAndTakeAll either sees this callback or keeps it from taking anything.
            Interlocked.Increment(ref _firing);
            var now = _time.GetUtcNow().UtcTicks;
            _armedTicks = long.MaxValue;
            while (_schedule.TryPeek(out var entry, out var priority) && priority.DueTicks <= now)
            {
                _schedule.Dequeue();
                (due ??= []).Add(entry);
            }
        }

        try
        {
            if (due is not null)
            {
                foreach (var entry in due)
                {
                    entry.Queue.Requeue(entry.Envelope);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _firing);
        }

        Arm();
    }

    /// <summary>Sets the timer for the earliest due message, unless it is set for that already.</summary>
    private void Arm()
    {
        lock (_timerLock)
        {
            long next;
            lock (_lock)
            {
                next = _schedule.TryPeek(out _, out var priority) ? priority.DueTicks : long.MaxValue;
                if (next >= _armedTicks)
                {
                    return;
                }

                _armedTicks = next;
            }

            // Timers take at most 2^32 - 2 ms; a later message is reached by firing early and setting the timer again.
            var dueIn = TimeSpan.FromTicks(Math.Clamp(next - _time.GetUtcNow().UtcTicks, 0, MaxTimerDelay.Ticks));
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly record struct Entry(BusQueue Queue, Envelope Envelope);
}

/// <summary>What became of a request to schedule a delayed retry.</summary>
internal enum ScheduleResult
{
    Scheduled,
    Full,
    Closed,
}
