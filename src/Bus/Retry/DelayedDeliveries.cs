using System.Diagnostics;

namespace Bus;

/// <summary>
/// Messages waiting outside any queue until a time: delayed retries (which re-enter their queue when due) and
/// scheduled publishes (which are routed through their exchange when due). One timer from the bus's
/// <see cref="TimeProvider"/>, set for the earliest due time; bounded by <see cref="BusOptions.ScheduledCapacity"/>.
/// </summary>
/// <remarks>
/// <see cref="_lock"/> guards the schedule. Timer changes are serialized by <see cref="_timerLock"/> and made outside
/// <see cref="_lock"/>, because a fake clock may fire the callback inside <see cref="ITimer.Change"/>; the callback
/// takes <see cref="_lock"/> only to remove due messages and delivers them after releasing it. The scheduled-publish
/// counters only grow, so the bus's idle check can read them twice like the queues' counters.
/// </remarks>
[DebuggerDisplay("{_schedule.Count} waiting")]
internal sealed class DelayedDeliveries : IDisposable
{
    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly Lock _lock = new();
    private readonly Lock _timerLock = new();
    private readonly PriorityQueue<Entry, (long DueTicks, long Sequence)> _schedule = new();
    private readonly Dictionary<Guid, DateTimeOffset> _publishes = [];
    private readonly MessageBus _bus;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly ITimer _timer;
    private long _sequence;
    private long _armedTicks = long.MaxValue;
    private bool _closed;
    private int _firing;
    private long _publishesScheduled;
    private long _publishesEnded;

    public DelayedDeliveries(MessageBus bus, TimeProvider time, int capacity)
    {
        _bus = bus;
        _time = time;
        _capacity = capacity;
        _timer = time.CreateTimer(static state => ((DelayedDeliveries)state!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Scheduled publishes accepted and ended (published, cancelled or taken at stop); both only grow.</summary>
    public (long Scheduled, long Ended) PublishCounters => (Volatile.Read(ref _publishesScheduled), Volatile.Read(ref _publishesEnded));

    /// <summary>Schedules a retry of a message into its queue.</summary>
    public ScheduleResult TrySchedule(BusQueue queue, in Envelope envelope, TimeSpan delay) =>
        TryAdd(new Entry(queue, null, envelope), DueTicks(delay));

    /// <summary>Schedules a publish through an exchange at a time.</summary>
    public ScheduleResult TrySchedulePublish(Exchange exchange, in Envelope envelope, DateTimeOffset dueAt) =>
        TryAdd(new Entry(null, exchange, envelope), dueAt.UtcTicks);

    /// <summary>The scheduled publishes still waiting, earliest first.</summary>
    public List<ScheduledMessage> ListPublishes()
    {
        var list = new List<ScheduledMessage>();
        lock (_lock)
        {
            foreach (var (entry, priority) in _schedule.UnorderedItems)
            {
                if (entry.Exchange is not null)
                {
                    list.Add(new ScheduledMessage(entry.Envelope, new DateTimeOffset(priority.DueTicks, TimeSpan.Zero)));
                }
            }
        }

        list.Sort((a, b) => a.DueAt.CompareTo(b.DueAt));
        return list;
    }

    /// <summary>Cancels a scheduled publish; false when none with that id is waiting.</summary>
    public bool CancelPublish(Guid messageId)
    {
        lock (_lock)
        {
            if (!_publishes.ContainsKey(messageId)
                || !_schedule.Remove(new Entry(null, null, default), out _, out _, new PublishIdComparer(messageId)))
            {
                return false;
            }

            _publishes.Remove(messageId);
            Interlocked.Increment(ref _publishesEnded);
        }

        return true;
    }

    /// <summary>
    /// Closes the schedule for the stop: nothing more is scheduled or comes due. Returns what was still waiting, once
    /// any message that was just coming due has been delivered, so the stop report misses nothing.
    /// </summary>
    public List<Entry> CloseAndTakeAll()
    {
        var all = new List<Entry>();
        lock (_lock)
        {
            _closed = true;
            while (_schedule.TryDequeue(out var entry, out _))
            {
                all.Add(entry);
                if (entry.Exchange is not null)
                {
                    _publishes.Remove(entry.Envelope.MessageId);
                    Interlocked.Increment(ref _publishesEnded);
                }
            }
        }

        WaitForFiring();
        return all;
    }

    /// <summary>Removes and returns the retries waiting for one queue (it is being deleted), once none is coming due.</summary>
    public List<Envelope> TakeRetries(BusQueue queue)
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

    private long DueTicks(TimeSpan delay)
    {
        var now = _time.GetUtcNow().UtcTicks;
        return now + Math.Min(delay.Ticks, DateTimeOffset.MaxValue.UtcTicks - now);
    }

    private ScheduleResult TryAdd(in Entry entry, long dueTicks)
    {
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

            _schedule.Enqueue(entry, (dueTicks, _sequence++));
            if (entry.Exchange is not null)
            {
                _publishes.Add(entry.Envelope.MessageId, new DateTimeOffset(dueTicks, TimeSpan.Zero));
                Interlocked.Increment(ref _publishesScheduled);
            }
        }

        Arm();
        return ScheduleResult.Scheduled;
    }

    /// <summary>Waits out a callback that took due messages and is delivering them.</summary>
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
                if (entry.Exchange is not null)
                {
                    _publishes.Remove(entry.Envelope.MessageId);
                }

                (due ??= []).Add(entry);
            }
        }

        try
        {
            foreach (var entry in due ?? [])
            {
                if (entry.Queue is { } queue)
                {
                    queue.Requeue(entry.Envelope);
                }
                else
                {
                    // Into the queues first, counted as ended after: in between it counts twice, never as gone.
                    _bus.PublishScheduled(entry.Exchange!, entry.Envelope);
                    Interlocked.Increment(ref _publishesEnded);
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

    /// <summary>A waiting message: a retry for <see cref="Queue"/>, or a publish through <see cref="Exchange"/>.</summary>
    internal readonly record struct Entry(BusQueue? Queue, Exchange? Exchange, Envelope Envelope);

    /// <summary>Finds a scheduled publish by message id, for cancellation.</summary>
    private sealed class PublishIdComparer(Guid messageId) : IEqualityComparer<Entry>
    {
        public bool Equals(Entry x, Entry y) => IsWanted(x) || IsWanted(y);

        public int GetHashCode(Entry obj) => 0;

        private bool IsWanted(in Entry entry) => entry.Exchange is not null && entry.Envelope.MessageId == messageId;
    }
}

/// <summary>What became of a request to schedule a message.</summary>
internal enum ScheduleResult
{
    Scheduled,
    Full,
    Closed,
}
