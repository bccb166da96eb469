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
    private static readonly int s_reasons = Enum.GetValues<DeadLetterReason>().Length;

    private readonly IdleMonitor _idle;
    private readonly long[] _settled = new long[Enum.GetValues<Outcome>().Length];
    private readonly long[] _deadLettered = new long[s_reasons];
    private readonly long[] _deferred = new long[Enum.GetValues<WaitKind>().Length];
    private readonly long[] _resumed = new long[Enum.GetValues<WaitKind>().Length];

    // Apart from the counters the consumers' side writes: publishers count in on every publish.
    private PaddedCounter _accepted;
    private long _withdrawn;
    private long _dropped;
    private long _faulted;
    private long _reportedCopies;
    private long _retried;

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
    public void Accept() => Interlocked.Increment(ref _accepted.Value);

    /// <summary>Counts out a message that was counted in but not stored after all (a full, closed or cancelled publish).</summary>
    public void Withdraw()
    {
        Interlocked.Increment(ref _withdrawn);
        Changed();
    }

    /// <summary>Ends a message.</summary>
    public void Settle(Outcome outcome)
    {
        Debug.Assert(outcome != Outcome.DeadLettered, "Dead letters are settled with their reason.");
        Interlocked.Increment(ref _settled[(int)outcome]);
        Changed();
    }

    /// <summary>Ends a message in the dead-letter store.</summary>
    public void SettleDeadLettered(DeadLetterReason reason, bool dropped = false)
    {
        Interlocked.Increment(ref _deadLettered[(int)reason]);
        if (dropped)
        {
            Interlocked.Increment(ref _dropped);
        }

        Interlocked.Increment(ref _settled[(int)Outcome.DeadLettered]);
        Changed();
    }

    /// <summary>A pending message begins waiting for the clock.</summary>
    public void Defer(WaitKind kind)
    {
        Interlocked.Increment(ref _deferred[(int)kind]);
        Changed();
    }

    /// <summary>A waiting message is ready again (or ends right after).</summary>
    public void Resume(WaitKind kind, int count = 1)
    {
        Interlocked.Add(ref _resumed[(int)kind], count);
        CheckInvariants();
    }

    /// <summary>A delivery failed (the message is then retried or dead-lettered).</summary>
    public void Faulted() => Interlocked.Increment(ref _faulted);

    /// <summary>
    /// A message this ledger counted as reported was also copied into the dead-letter store (reason
    /// <see cref="DeadLetterReason.BusStopped"/> or <see cref="DeadLetterReason.QueueDeleted"/>), for inspection and replay.
    /// </summary>
    public void ReportedCopyStored() => Interlocked.Increment(ref _reportedCopies);

    /// <summary>A retry was decided.</summary>
    public void Retried() => Interlocked.Increment(ref _retried);

    /// <summary>Reads the counters; settled ones before accepted ones, so a snapshot never shows more out than in.</summary>
    public LedgerSnapshot Read()
    {
        long settled = 0;
        foreach (ref var count in _settled.AsSpan())
        {
            settled += Volatile.Read(ref count);
        }

        settled += Volatile.Read(ref _withdrawn);
        long resumed = 0;
        foreach (ref var count in _resumed.AsSpan())
        {
            resumed += Volatile.Read(ref count);
        }

        long deferred = 0;
        foreach (ref var count in _deferred.AsSpan())
        {
            deferred += Volatile.Read(ref count);
        }

        return new LedgerSnapshot(Volatile.Read(ref _accepted.Value), settled, deferred, resumed);
    }

    /// <summary>Adds the counters to a queue's statistics.</summary>
    public void AddTo(QueueStatistics statistics)
    {
        statistics.Consumed = Volatile.Read(ref _settled[(int)Outcome.Consumed]);
        statistics.Duplicates = Volatile.Read(ref _settled[(int)Outcome.Duplicate]);
        statistics.DeadLettered = Volatile.Read(ref _settled[(int)Outcome.DeadLettered]) + Volatile.Read(ref _reportedCopies);
        statistics.Unprocessed = Volatile.Read(ref _settled[(int)Outcome.Reported]);
        statistics.Expired = Volatile.Read(ref _deadLettered[(int)DeadLetterReason.Expired]);
        statistics.Dropped = Volatile.Read(ref _dropped);
        statistics.Faulted = Volatile.Read(ref _faulted);
        statistics.Retried = Volatile.Read(ref _retried);
        statistics.WaitingForRetry = Volatile.Read(ref _deferred[(int)WaitKind.Schedule]) - Volatile.Read(ref _resumed[(int)WaitKind.Schedule]);
        var snapshot = Read();
        statistics.Pending = snapshot.Pending;
        statistics.Enqueued = snapshot.Accepted - Volatile.Read(ref _withdrawn);
    }

    /// <summary>Held in batches until their window passes.</summary>
    public long WaitingInBatches => Volatile.Read(ref _deferred[(int)WaitKind.BatchWindow]) - Volatile.Read(ref _resumed[(int)WaitKind.BatchWindow]);

    /// <summary>Dead letters of one reason.</summary>
    public long DeadLettersOf(DeadLetterReason reason) => Volatile.Read(ref _deadLettered[(int)reason]);

    /// <summary>Wakes idle waiters when this ledger has nothing active left; costs one read when nobody waits.</summary>
    private void Changed()
    {
        CheckInvariants();
        if (_idle.HasWaiters && Read().Active == 0)
        {
            _idle.Signal();
        }
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
internal readonly record struct LedgerSnapshot(long Accepted, long Settled, long Deferred, long Resumed)
{
    /// <summary>Accepted and not ended, waiting ones included.</summary>
    public long Pending => Accepted - Settled;

    /// <summary>Waiting for the clock.</summary>
    public long Waiting => Deferred - Resumed;

    /// <summary>Pending and not waiting: stored, being consumed, or being settled.</summary>
    public long Active => Pending - Waiting;
}
