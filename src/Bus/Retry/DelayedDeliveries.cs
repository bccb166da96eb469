using System.Diagnostics;

namespace Bus;

/// <summary>
/// Messages waiting outside any queue until a time: delayed retries (which re-enter their queue when due) and
/// scheduled publishes (which are routed through their exchange when due). One timer from the bus's
/// <see cref="TimeProvider"/>, set for the earliest due time; bounded by <see cref="BusOptions.ScheduledCapacity"/>.
/// </summary>
/// <remarks>
/// <para>
/// Due times are on the monotonic clock (<see cref="TimeProvider.GetTimestamp"/>): a step of the wall clock moves
/// neither retries nor scheduled publishes. A publish scheduled for a wall-clock time is converted once, when it is
/// scheduled.
/// </para>
/// <para>
/// Accounting: a retry is counted as waiting in its queue's ledger while it is here; a scheduled publish in the bus's
/// schedule ledger, <see cref="Ledger"/>, from the moment it is accepted until it is
/// routed into its queues (which count it from then on), cancelled, found unroutable, dead-lettered or reported.
/// </para>
/// <para>
/// <see cref="_lock"/> guards the schedule. Timer changes are serialized by <see cref="_timerLock"/> and made outside
/// <see cref="_lock"/>, because a fake clock may fire the callback inside <see cref="ITimer.Change"/>; the callback
/// takes <see cref="_lock"/> only to remove due messages and delivers them after releasing it.
/// </para>
/// </remarks>
[DebuggerDisplay("{_schedule.Count} waiting")]
internal sealed class DelayedDeliveries : IDisposable
{
    /// <summary>The name reports and dead letters give a scheduled message that was never routed.</summary>
    public const string ScheduledQueueName = "(scheduled)";

    private static readonly TimeSpan MaxTimerDelay = TimeSpan.FromMilliseconds(uint.MaxValue - 1);

    private readonly Lock _lock = new();
    private readonly Lock _timerLock = new();
    private readonly PriorityQueue<Entry, (long DueTimestamp, long Sequence)> _schedule = new();
    private readonly Dictionary<Guid, DateTimeOffset> _publishes = [];
    private readonly List<UnprocessedMessage> _setAside = [];

    // Scheduled messages on their way to a broker (one per message that came due, until confirmed): bounded by the schedule.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Task, byte> _forwarding = new();
    private readonly MessageBus _bus;
    private readonly TimeProvider _time;
    private readonly int _capacity;
    private readonly ITimer _timer;
    private long _sequence;
    private long _armedTimestamp = long.MaxValue;
    private bool _closed;
    private int _firing;

    public DelayedDeliveries(MessageBus bus, TimeProvider time, int capacity, IdleMonitor idle)
    {
        _bus = bus;
        _time = time;
        _capacity = capacity;
        Ledger = new QueueLedger(ScheduledQueueName, idle);
        _timer = time.CreateTimer(static state => ((DelayedDeliveries)state!).OnDue(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Counts the scheduled publishes (retries are counted by their queues).</summary>
    public QueueLedger Ledger { get; }

    /// <summary>How many scheduled publishes wait.</summary>
    public int PublishCount
    {
        get
        {
            lock (_lock)
            {
                return _publishes.Count;
            }
        }
    }

    /// <summary>
    /// Schedules a retry of a message into its queue, and counts it as waiting in the queue's ledger. Its due time is
    /// taken before that count can tell anyone the queue is idle, so a clock moved right after still brings it due.
    /// </summary>
    /// <remarks>The queue's ledger counts the retry as waiting but wakes no idle waiter: the caller calls <see cref="QueueLedger.Notify"/>.</remarks>
    public ScheduleResult TrySchedule(BusQueue queue, in Envelope envelope, TimeSpan delay) =>
        TryAdd(new Entry(queue, null, envelope), DueTimestamp(delay), default);

    /// <summary>
    /// Schedules a publish through an exchange at a wall-clock time. Refused (<see cref="ScheduleResult.Duplicate"/>,
    /// nothing added) when a publish with the same message id is waiting already.
    /// </summary>
    public ScheduleResult TrySchedulePublish(Exchange exchange, in Envelope envelope, DateTimeOffset dueAt) =>
        TryAdd(new Entry(null, exchange, envelope), DueTimestamp(dueAt - _time.GetUtcNow()), dueAt);

    /// <summary>The scheduled publishes still waiting, earliest first.</summary>
    public List<ScheduledMessage> ListPublishes()
    {
        var list = new List<ScheduledMessage>();
        lock (_lock)
        {
            foreach (var (entry, _) in _schedule.UnorderedItems)
            {
                if (entry.Exchange is not null)
                {
                    list.Add(new ScheduledMessage(entry.Envelope, _publishes[entry.Envelope.MessageId]));
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
                || !_schedule.Remove(default, out _, out _, new PublishIdComparer(messageId)))
            {
                return false;
            }

            _publishes.Remove(messageId);
            Ledger.Resume(WaitKind.Schedule);
            Ledger.Settle(Outcome.Cancelled);
        }

        return true;
    }

    /// <summary>
    /// Closes the schedule for the stop: nothing more is scheduled or comes due. Reports (and counts out) what was still
    /// waiting, once any message that was just coming due has been delivered, so the report misses nothing.
    /// </summary>
    public void CloseAndReport(List<UnprocessedMessage> into)
    {
        var all = new List<Entry>();
        lock (_lock)
        {
            _closed = true;
            while (_schedule.TryDequeue(out var entry, out _))
            {
                all.Add(entry);
            }

            _publishes.Clear();
        }

        WaitForFiring();
        foreach (var entry in all)
        {
            if (entry.Queue is { } queue)
            {
                queue.Ledger.Resume(WaitKind.Schedule);
                queue.Settlement.Report(into, [entry.Envelope], wereInFlight: false);
            }
            else
            {
                Ledger.Resume(WaitKind.Schedule);
                into.Add(new UnprocessedMessage(ScheduledQueueName, entry.Envelope, wasInFlight: false));
                Ledger.Settle(Outcome.Reported);
            }
        }

        lock (_lock)
        {
            into.AddRange(_setAside);
            _setAside.Clear();
        }
    }

    /// <summary>
    /// Reports (and counts out) the retries waiting for one queue, which is being deleted and is closed already (so no new
    /// retry for it is accepted), once none is coming due.
    /// </summary>
    public void ReportRetries(BusQueue queue, List<UnprocessedMessage> into)
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
        foreach (var envelope in taken)
        {
            queue.Ledger.Resume(WaitKind.Schedule);
            queue.Settlement.Report(into, [envelope], wereInFlight: false);
        }
    }

    public void Dispose() => _timer.Dispose();

    private long DueTimestamp(TimeSpan delay)
    {
        // Exact integer arithmetic: a retry due after exactly its delay must not come due a tick early.
        var now = _time.GetTimestamp();
        var span = (Int128)Math.Max(0, delay.Ticks) * _time.TimestampFrequency / TimeSpan.TicksPerSecond;
        return span >= long.MaxValue - now ? long.MaxValue : now + (long)span;
    }

    private ScheduleResult TryAdd(in Entry entry, long dueTimestamp, DateTimeOffset dueAt)
    {
        lock (_lock)
        {
            // A retry for a closed queue is refused under the lock ReportRetries takes after the queue closed: either the
            // retry is refused (and set aside for the report), or it is here when its queue's retries are reported.
            if (_closed || entry.Queue?.IsClosed == true)
            {
                return ScheduleResult.Closed;
            }

            if (_schedule.Count >= _capacity)
            {
                return ScheduleResult.Full;
            }

            if (entry.Queue is { } queue)
            {
                // Counted under the lock, before the due callback can take it and count it back; the caller wakes idle
                // waiters once it has recorded the retry (see QueueLedger.Defer).
                queue.Ledger.Defer(WaitKind.Schedule, notify: false);
            }
            else
            {
                // Checked before anything is added: a refused duplicate leaves nothing behind.
                if (!_publishes.TryAdd(entry.Envelope.MessageId, dueAt))
                {
                    return ScheduleResult.Duplicate;
                }

                Ledger.Accept();
                Ledger.Defer(WaitKind.Schedule, notify: false);
            }

            _schedule.Enqueue(entry, (dueTimestamp, _sequence++));
        }

        Arm();
        if (entry.Queue is null)
        {
            Ledger.Notify();
        }

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

            // Counted under the lock, so CloseAndReport either sees this callback or keeps it from taking anything.
            Interlocked.Increment(ref _firing);
            var now = _time.GetTimestamp();
            _armedTimestamp = long.MaxValue;
            while (_schedule.TryPeek(out var entry, out var priority) && priority.DueTimestamp <= now)
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
                    Publish(entry.Exchange!, entry.Envelope);
                }
            }
        }
        finally
        {
            Interlocked.Decrement(ref _firing);
            Arm();
        }
    }

    /// <summary>Routes a scheduled publish that came due; its queues count it from then on. Never throws.</summary>
    private void Publish(Exchange exchange, in Envelope envelope)
    {
        Ledger.Resume(WaitKind.Schedule);
        if (_bus.Broker is not null)
        {
            // Counted here until the broker confirms it: a stop waits for it, and a refusal dead-letters it.
            var forwarding = ForwardToBrokerAsync(envelope);
            _forwarding.TryAdd(forwarding, 0);
            _ = forwarding.ContinueWith(static (task, state) => ((DelayedDeliveries)state!)._forwarding.TryRemove(task, out _), this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            return;
        }

        int routed;
        try
        {
            routed = _bus.PublishScheduled(exchange, envelope);
        }
        catch (Exception exception)
        {
            // A routing strategy of the application threw: the message ends in the dead-letter store, and the rest of
            // the due messages go on.
            _ = DeadLetterAsync(envelope, exception);
            return;
        }

        Ledger.Settle(routed == 0 ? Outcome.Unroutable : Outcome.Forwarded);
    }

    /// <summary>Publishes a scheduled message that came due to the broker; what the broker refuses is dead-lettered.</summary>
    private async Task ForwardToBrokerAsync(Envelope envelope)
    {
        try
        {
            await _bus.PublishScheduledToBrokerAsync(envelope).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.ScheduledPublishFailed(_bus.Logger, exception, envelope.MessageId, envelope.MessageType);
            await DeadLetterAsync(envelope, exception, $"it came due and the broker did not take it: {exception.Message}").ConfigureAwait(false);
            return;
        }

        Ledger.Settle(Outcome.Forwarded);
    }

    /// <summary>Completes when every scheduled message on its way to the broker has been confirmed or dead-lettered, within a bound.</summary>
    public Task WhenForwardedAsync() =>
        Task.WhenAll(_forwarding.Keys).WaitAsync(BusQueue.SettleLimit, TimeProvider.System).ContinueWith(static _ => { }, TaskScheduler.Default);

    private Task DeadLetterAsync(Envelope envelope, Exception routingError) =>
        DeadLetterAsync(envelope, routingError, $"routing it through exchange '{envelope.Exchange}' threw {routingError.GetType().Name}: {routingError.Message}");

    private async Task DeadLetterAsync(Envelope envelope, Exception routingError, string description)
    {
        try
        {
            await _bus.DeadLetters.StoreAsync(ScheduledQueueName, envelope, DeadLetterReason.RoutingFailed, description, routingError, 0).ConfigureAwait(false);
            Ledger.SettleDeadLettered(DeadLetterReason.RoutingFailed);
        }
        catch (Exception storeError)
        {
            // Kept for the stop's report; once that report is taken, the critical log line is its only record.
            Log.DeliveryBroke(_bus.Logger, storeError, envelope.MessageId, envelope.MessageType, ScheduledQueueName);
            lock (_lock)
            {
                if (!_closed)
                {
                    _setAside.Add(new UnprocessedMessage(ScheduledQueueName, envelope, wasInFlight: false));
                }
            }

            Ledger.Settle(Outcome.Reported);
        }
    }

    /// <summary>Sets the timer for the earliest due message, unless it is set for that already.</summary>
    private void Arm()
    {
        lock (_timerLock)
        {
            long next;
            lock (_lock)
            {
                next = _schedule.TryPeek(out _, out var priority) ? priority.DueTimestamp : long.MaxValue;
                if (next >= _armedTimestamp || _closed)
                {
                    return;
                }

                _armedTimestamp = next;
            }

            // Timers take at most 2^32 - 2 ms; a later message is reached by firing early and setting the timer again.
            var left = (Int128)next - _time.GetTimestamp();
            var dueIn = left <= 0 ? TimeSpan.Zero : TimeSpan.FromTicks((long)Int128.Min(((left * TimeSpan.TicksPerSecond) + _time.TimestampFrequency - 1) / _time.TimestampFrequency, MaxTimerDelay.Ticks));
            _timer.Change(dueIn, Timeout.InfiniteTimeSpan);
        }
    }

    /// <summary>A waiting message: a retry for <see cref="Queue"/>, or a publish through <see cref="Exchange"/>.</summary>
    private readonly record struct Entry(BusQueue? Queue, Exchange? Exchange, Envelope Envelope);

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
    Duplicate,
}
