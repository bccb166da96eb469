using System.Diagnostics;

namespace Bus;

/// <summary>
/// The one owner of a queue's accounting: every message the queue accepts is counted in here, and every way it can end
/// is counted out here, once. Idle, drain and statistics read nothing else, and the idle signal is raised in one place.
/// </summary>
/// <remarks>
/// <para>
/// Counters only grow. A message is counted in (<see cref="Accept"/>) before anyone can take it, and out
/// (<see cref="Settle"/>) only after it was taken, so a reader that reads the settled counts before the accepted one
/// never sees more out than in. A message that waits for the clock (a delayed retry, a batch window, a scheduled publish)
/// is still pending: <see cref="Defer"/> and <see cref="Resume"/> count it out of and back into the active messages.
/// Because every counter only grows, two identical snapshots taken one after the other prove that nothing changed in
/// between, which is how <see cref="BusTopology.IsIdle"/> finds a moment at which every ledger was idle at once.
/// </para>
/// <para>
/// Every change is an interlocked write, a full fence, followed by a read of <see cref="IdleMonitor.HasWaiters"/>; the
/// waiter registers with an interlocked write and then reads the counters. Of two threads that each write and then read
/// with a full fence in between, at least one sees the other's write, so no idle moment is missed.
/// </para>
/// </remarks>
[DebuggerDisplay("{Name,nq}: pending {Pending}, waiting {Waiting}")]
internal sealed class QueueLedger
{
    // Every counter in one array, so an idle queue's ledger is one small allocation. The publishers' counter comes
    // first and the consumers' side starts a cache line later, so the two sides do not write to the same line.
    private const int Accepted = 0;
    private const int Withdrawn = 8;
    private const int Dropped = Withdrawn + 1;
    private const int FaultedCount = Dropped + 1;
    private const int RetriedCount = FaultedCount + 1;
    private const int ReportedCopies = RetriedCount + 1;
    private const int SettledBase = ReportedCopies + 1;
    private static readonly int s_outcomes = Enum.GetValues<Outcome>().Length;
    private static readonly int s_waitKinds = Enum.GetValues<WaitKind>().Length;
    private static readonly int s_deadLetteredBase = SettledBase + s_outcomes;
    private static readonly int s_deferredBase = s_deadLetteredBase + Enum.GetValues<DeadLetterReason>().Length;
    private static readonly int s_resumedBase = s_deferredBase + s_waitKinds;

    private readonly IdleMonitor _idle;
    // Waits begun quietly (Defer without notify) and the ones announced since (Notify): until a quiet wait is announced,
    // its message still counts as active, so no one finds the queue idle before its timer is armed.
    private static readonly int s_quietBegun = s_resumedBase + s_waitKinds;
    private static readonly int s_quietAnnounced = s_quietBegun + 1;

    private readonly long[] _counts = new long[s_quietAnnounced + 1];

    public QueueLedger(string name, IdleMonitor idle)
    {
        Name = name;
        _idle = idle;
    }

    public string Name { get; }

    /// <summary>Accepted and not yet ended, waiting ones included.</summary>
    public long Pending => Read().Pending;

    /// <summary>Waiting for the clock: delayed retries, batch windows, scheduled publishes.</summary>
    public long Waiting => Read().Waiting;

    /// <summary>
    /// Counts a message in, before it is stored where a consumer could take it. A publish that then does not store it
    /// calls <see cref="Withdraw"/>.
    /// </summary>
    public void Accept() => Interlocked.Increment(ref _counts[Accepted]);

    /// <summary>Counts out a message that was counted in but not stored after all (a full, closed or cancelled publish).</summary>
    public void Withdraw()
    {
        Interlocked.Increment(ref _counts[Withdrawn]);
        Changed();
    }

    /// <summary>Ends a message.</summary>
    public void Settle(Outcome outcome)
    {
        Debug.Assert(outcome != Outcome.DeadLettered, "Dead letters are settled with their reason.");
        Interlocked.Increment(ref _counts[SettledBase + (int)outcome]);
        Changed();
    }

    /// <summary>Ends a message in the dead-letter store.</summary>
    public void SettleDeadLettered(DeadLetterReason reason, bool dropped = false)
    {
        Interlocked.Increment(ref _counts[s_deadLetteredBase + (int)reason]);
        if (dropped)
        {
            Interlocked.Increment(ref _counts[Dropped]);
        }

        Interlocked.Increment(ref _counts[SettledBase + (int)Outcome.DeadLettered]);
        Changed();
    }

    /// <summary>A pending message begins waiting for the clock.</summary>
    /// <remarks>
    /// With <paramref name="notify"/> false the change is counted but idle waiters are not woken yet: the schedule
    /// defers a message under its lock, and wakes them with <see cref="Notify"/> only once its timer is armed and the
    /// retry recorded, so that whoever sees the bus idle and then moves a fake clock finds the timer already set.
    /// </remarks>
    public void Defer(WaitKind kind, bool notify = true)
    {
        if (!notify)
        {
            // Counted first, so that no read sees the wait begun without seeing it unannounced.
            Interlocked.Increment(ref _counts[s_quietBegun]);
        }

        Interlocked.Increment(ref _counts[s_deferredBase + (int)kind]);
        if (notify)
        {
            Changed();
        }
    }

    /// <summary>
    /// Announces a wait begun without notifying (see <see cref="Defer"/>): from now its message counts as waiting, and
    /// idle waiters are woken. Called once per such wait.
    /// </summary>
    public void Notify()
    {
        Interlocked.Increment(ref _counts[s_quietAnnounced]);
        Changed();
    }

    /// <summary>A waiting message is ready again (or ends right after).</summary>
    public void Resume(WaitKind kind, int count = 1)
    {
        Interlocked.Add(ref _counts[s_resumedBase + (int)kind], count);
        CheckInvariants();
    }

    /// <summary>A delivery failed (the message is then retried or dead-lettered).</summary>
    public void Faulted() => Interlocked.Increment(ref _counts[FaultedCount]);

    /// <summary>A retry was decided.</summary>
    public void Retried() => Interlocked.Increment(ref _counts[RetriedCount]);

    /// <summary>
    /// A message this ledger counted as reported was also copied into the dead-letter store (reason
    /// <see cref="DeadLetterReason.BusStopped"/> or <see cref="DeadLetterReason.QueueDeleted"/>), for inspection and replay.
    /// </summary>
    public void ReportedCopyStored() => Interlocked.Increment(ref _counts[ReportedCopies]);

    /// <summary>Messages waiting for a delayed retry, read cheaply (resumed before deferred) for the gauges.</summary>
    public long WaitingForRetry
    {
        get
        {
            var resumed = Count(s_resumedBase + (int)WaitKind.Schedule);
            return Count(s_deferredBase + (int)WaitKind.Schedule) - resumed;
        }
    }

    /// <summary>Messages taken by consumers and not yet ended, given the depth read just before: what is active and not waiting in a lane.</summary>
    public long InFlight(int depth) => Math.Max(0, Read().Active - depth);

    /// <summary>Reads the counters; settled ones before accepted ones, so a snapshot never shows more out than in.</summary>
    public LedgerSnapshot Read()
    {
        var settled = Count(Withdrawn);
        for (var i = 0; i < s_outcomes; i++)
        {
            settled += Count(SettledBase + i);
        }

        long resumed = 0;
        long deferred = 0;
        for (var i = 0; i < s_waitKinds; i++)
        {
            resumed += Count(s_resumedBase + i);
        }

        for (var i = 0; i < s_waitKinds; i++)
        {
            deferred += Count(s_deferredBase + i);
        }

        // Announced before begun: a read never sees more announced than begun.
        var announced = Count(s_quietAnnounced);
        var unannounced = Count(s_quietBegun) - announced;
        return new LedgerSnapshot(Count(Accepted), settled, deferred, resumed, unannounced);
    }

    /// <summary>
    /// Adds the counters to a queue's statistics, all from one copy of the counters (see <see cref="ReadStable"/>).
    /// </summary>
    public void AddTo(QueueStatistics statistics)
    {
        var counts = ReadStable();
        long settled = counts[Withdrawn];
        for (var i = 0; i < s_outcomes; i++)
        {
            settled += counts[SettledBase + i];
        }

        statistics.Consumed = counts[SettledBase + (int)Outcome.Consumed];
        statistics.Duplicates = counts[SettledBase + (int)Outcome.Duplicate];
        statistics.DeadLettered = counts[SettledBase + (int)Outcome.DeadLettered] + counts[ReportedCopies];
        statistics.Unprocessed = counts[SettledBase + (int)Outcome.Reported];
        statistics.Returned = counts[SettledBase + (int)Outcome.Returned];
        statistics.Expired = counts[s_deadLetteredBase + (int)DeadLetterReason.Expired];
        statistics.Dropped = counts[Dropped];
        statistics.Faulted = counts[FaultedCount];
        statistics.Retried = counts[RetriedCount];
        statistics.WaitingForRetry = counts[s_deferredBase + (int)WaitKind.Schedule] - counts[s_resumedBase + (int)WaitKind.Schedule];
        statistics.WaitingInBatches = counts[s_deferredBase + (int)WaitKind.BatchWindow] - counts[s_resumedBase + (int)WaitKind.BatchWindow];
        statistics.Pending = counts[Accepted] - settled;
        statistics.Enqueued = counts[Accepted] - counts[Withdrawn];

        var byReason = new Dictionary<DeadLetterReason, long>();
        foreach (var reason in Enum.GetValues<DeadLetterReason>())
        {
            if (counts[s_deadLetteredBase + (int)reason] is > 0 and var count)
            {
                byReason[reason] = count;
            }
        }

        statistics.DeadLetteredByReason = byReason;
    }

    /// <summary>
    /// A copy of every counter from one moment when the queue is quiet enough to find one: two reads in a row that agree
    /// (nothing changed in between, since counters only grow). Under load it gives up after a few tries and returns the
    /// last read, which reads the consumers' side before the publishers' (from the end of the array), so it still never
    /// shows more messages out than in, nor more waits ended than begun. No lock: readers never hold up the queue.
    /// </summary>
    private long[] ReadStable()
    {
        var first = new long[_counts.Length];
        var second = new long[_counts.Length];
        ReadBackwards(first);
        for (var attempt = 0; attempt < 4; attempt++)
        {
            ReadBackwards(second);
            if (first.AsSpan().SequenceEqual(second))
            {
                return second;
            }

            (first, second) = (second, first);
        }

        return first;
    }

    private void ReadBackwards(long[] into)
    {
        for (var i = into.Length - 1; i >= 0; i--)
        {
            into[i] = Volatile.Read(ref _counts[i]);
        }
    }

    /// <summary>Dead letters of one reason.</summary>
    public long DeadLettersOf(DeadLetterReason reason) => Count(s_deadLetteredBase + (int)reason);

    private long Count(int index) => Volatile.Read(ref _counts[index]);

    /// <summary>Wakes idle waiters when this ledger has nothing active left; costs one read when nobody waits.</summary>
    private void Changed()
    {
        CheckInvariants();
        if (_idle.HasWaiters && Read().Active == 0)
        {
            _idle.Signal();
        }
    }

    /// <summary>
    /// Checks, in Debug builds, that every message this ledger counted in has ended, once its queue (or the schedule)
    /// was collected by a stop or a deletion. A publish that passed the bus's state check just before the stop may still
    /// be counting in and out of the closed queue, so the check asks only that the ledger be seen balanced once.
    /// </summary>
    [Conditional("DEBUG")]
    public void AssertBalanced(string when)
    {
        // A lost message keeps Pending above zero for good; a racing publish only blips it.
        var balanced = SpinWait.SpinUntil(() => Read().Pending == 0, TimeSpan.FromSeconds(1));
        Debug.Assert(balanced, $"{Name} {when} with accepted messages neither ended nor reported: {Read()}.");
    }

    [Conditional("DEBUG")]
    private void CheckInvariants()
    {
        var snapshot = Read();
        Debug.Assert(snapshot.Settled <= snapshot.Accepted, $"Ledger {Name}: more messages ended ({snapshot.Settled}) than accepted ({snapshot.Accepted}).");
        Debug.Assert(snapshot.Resumed <= snapshot.Deferred, $"Ledger {Name}: more waits ended ({snapshot.Resumed}) than began ({snapshot.Deferred}).");
    }
}

/// <summary>A ledger's counters at one moment; all only grow, so two equal snapshots mean nothing changed in between.</summary>
internal readonly record struct LedgerSnapshot(long Accepted, long Settled, long Deferred, long Resumed, long Unannounced = 0)
{
    /// <summary>Accepted and not ended, waiting ones included.</summary>
    public long Pending => Accepted - Settled;

    /// <summary>Waiting for the clock.</summary>
    public long Waiting => Deferred - Resumed;

    /// <summary>Pending and not waiting: stored, being consumed, or being settled; a wait not yet announced counts as active.</summary>
    public long Active => Pending - Waiting + Unannounced;
}
