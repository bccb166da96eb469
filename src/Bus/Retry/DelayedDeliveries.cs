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

    /// <summary>Schedules a message; false when the schedule is full.</summary>
    public bool TrySchedule(BusQueue queue, in Envelope envelope, TimeSpan delay)
    {
        var due = _time.GetUtcNow().UtcTicks + delay.Ticks;
        lock (_lock)
        {
            if (_schedule.Count >= _capacity)
            {
                return false;
            }

            _schedule.Enqueue(new Entry(queue, envelope), (due, _sequence++));
        }

        Arm();
        return true;
    }

    /// <summary>Removes and returns everything still waiting, for the stop report.</summary>
    public List<(BusQueue Queue, Envelope Envelope)> TakeAll()
    {
        var all = new List<(BusQueue, Envelope)>();
        lock (_lock)
        {
            while (_schedule.TryDequeue(out var entry, out _))
            {
                all.Add((entry.Queue, entry.Envelope));
            }
        }

        return all;
    }

    /// <summary>Removes and returns what waits for one queue (it is being deleted).</summary>
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

        return taken;
    }

    public void Dispose() => _timer.Dispose();

    private void OnDue()
    {
        List<Entry>? due = null;
        lock (_lock)
        {
            var now = _time.GetUtcNow().UtcTicks;
            _armedTicks = long.MaxValue;
            while (_schedule.TryPeek(out var entry, out var priority) && priority.DueTicks <= now)
            {
                _schedule.Dequeue();
                (due ??= []).Add(entry);
            }
        }

        if (due is not null)
        {
            foreach (var entry in due)
            {
                entry.Queue.Requeue(entry.Envelope);
            }
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

            var dueIn = TimeSpan.FromTicks(Math.Max(0, next - _time.GetUtcNow().UtcTicks));
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }

    private readonly record struct Entry(BusQueue Queue, Envelope Envelope);
}
