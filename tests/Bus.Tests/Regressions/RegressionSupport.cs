using System.Collections.Concurrent;
using Bus.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Tests.Regressions;

/// <summary>Bounds of the regression tests: every wait ends, and a stop that should need no clock gets a real-time guard.</summary>
internal static class Regression
{
    /// <summary>
    /// How long a stop (or an idle wait) may take in real time when it must complete without the fake clock moving:
    /// it normally takes milliseconds; reaching this means the bus waits for a timeout or a signal that never comes.
    /// </summary>
    public static readonly TimeSpan StopGuard = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Waits for a stop, a delete or an idle wait that must complete without the fake clock moving, for at most
    /// <see cref="StopGuard"/> of real time, and says so plainly when it did not.
    /// </summary>
    public static async Task<T> WithinGuardAsync<T>(this Task<T> task, string what)
    {
        await ((Task)task).WithinGuardAsync(what);
        return await task;
    }

    /// <inheritdoc cref="WithinGuardAsync{T}(Task{T}, string)"/>
    public static async Task WithinGuardAsync(this Task task, string what)
    {
        try
        {
            await task.WaitAsync(StopGuard);
        }
        catch (TimeoutException) when (!task.IsCompleted)
        {
            throw new TimeoutException(
                $"{what} did not complete within {StopGuard.TotalSeconds} s of real time while the fake clock stood still: it waits for a timeout or a signal that never comes.");
        }
    }

    /// <summary>Registers a <see cref="Ledger"/> as a bus observer.</summary>
    public static IServiceCollection AddLedger(this IServiceCollection services) =>
        services.AddSingleton<Ledger>().AddSingleton<IBusObserver>(provider => provider.GetRequiredService<Ledger>());

    /// <summary>Registers a <see cref="FlakyDeadLetterStore"/> as the bus's dead-letter store.</summary>
    public static IServiceCollection AddFlakyDeadLetterStore(this IServiceCollection services) =>
        services.AddSingleton<FlakyDeadLetterStore>().AddSingleton<IDeadLetterStore>(provider => provider.GetRequiredService<FlakyDeadLetterStore>());

    /// <summary>Fails with how many problems there were, in how many rounds, and the first few.</summary>
    public static void ShouldBeNone(this IReadOnlyList<string> problems, string promise, int rounds)
    {
        var badRounds = problems.Select(p => p.Split(':')[0]).Distinct(StringComparer.Ordinal).Count();
        problems.Should().BeEmpty(
            "{0} (checked over {1} rounds; {2} problem(s) in {3} round(s), the first: {4})",
            promise,
            rounds,
            problems.Count,
            badRounds,
            string.Join(" | ", problems.Take(5)));
    }

    public static int JobId(this UnprocessedMessage message) => ((Job)message.Envelope.Message).Id;

    public static int JobId(this DeadLetter deadLetter) => ((Job)deadLetter.Message).Id;
}

/// <summary>
/// The bus's own word on which messages it finished: a message counts as consumed when the bus acknowledged it
/// (<see cref="IBusObserver.OnConsumed"/>), not when a consumer ran, because a consumer may still run on a message the
/// stop already took over and reported.
/// </summary>
internal sealed class Ledger : IBusObserver
{
    private readonly ConcurrentDictionary<int, int> _acknowledged = new();
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private int _total;

    /// <summary>Gets how many times each job was acknowledged.</summary>
    public IReadOnlyDictionary<int, int> Acknowledged => new Dictionary<int, int>(_acknowledged);

    public void OnConsumed(in Envelope envelope, string queue, Type consumerType)
    {
        if (envelope.Message is Job job)
        {
            _acknowledged.AddOrUpdate(job.Id, 1, (_, n) => n + 1);
        }

        var total = Interlocked.Increment(ref _total);
        lock (_lock)
        {
            foreach (var waiter in _waiters.FindAll(w => w.Count <= total))
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> messages were acknowledged.</summary>
    public Task WhenAcknowledgedAsync(int count)
    {
        lock (_lock)
        {
            if (Volatile.Read(ref _total) >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(TestBus.Timeout);
        }
    }
}

/// <summary>The promise of the core, checked per message id: every accepted job ends exactly once.</summary>
internal static class Accounting
{
    /// <summary>
    /// Lists what breaks the promise: an accepted job must be acknowledged once, or reported unprocessed once and
    /// dead-lettered once with <paramref name="reportedReason"/> (the consumers in these tests never fail, so nothing
    /// else ends a message); a job whose publish was refused must appear nowhere.
    /// </summary>
    public static List<string> Problems(
        IEnumerable<int> accepted,
        IReadOnlyDictionary<int, int> acknowledged,
        IEnumerable<UnprocessedMessage> reported,
        IEnumerable<DeadLetter> deadLetters,
        DeadLetterReason reportedReason)
    {
        var acceptedIds = accepted.ToHashSet();
        var reportedCounts = reported.GroupBy(u => u.JobId()).ToDictionary(g => g.Key, g => g.Count());
        var deadByJob = deadLetters.GroupBy(d => d.JobId()).ToDictionary(g => g.Key, g => g.ToList());
        var problems = new List<string>();
        foreach (var id in acceptedIds.Order())
        {
            var acked = acknowledged.GetValueOrDefault(id);
            var reports = reportedCounts.GetValueOrDefault(id);
            var dead = deadByJob.GetValueOrDefault(id) ?? [];
            if (acked + reports != 1)
            {
                problems.Add($"job {id}: acknowledged {acked} time(s) and reported unprocessed {reports} time(s) (dead-lettered {dead.Count} time(s)); it must end exactly once");
            }
            else if (dead.Count != reports || dead.Exists(d => d.Reason != reportedReason))
            {
                problems.Add($"job {id}: reported unprocessed {reports} time(s) but dead-lettered as [{string.Join(", ", dead.Select(d => d.Reason))}]; expected {reports} × {reportedReason}");
            }
        }

        foreach (var id in acknowledged.Keys.Concat(reportedCounts.Keys).Concat(deadByJob.Keys).Distinct().Where(id => !acceptedIds.Contains(id)).Order())
        {
            problems.Add($"job {id}: its publish was refused, yet it was acknowledged, reported or dead-lettered");
        }

        return problems;
    }
}

/// <summary>An in-memory dead-letter store that can be told to fail its next writes, as a store whose disk or network hiccups.</summary>
internal sealed class FlakyDeadLetterStore : IDeadLetterStore
{
    public const string FailureMessage = "the dead-letter store is unavailable (injected by a regression test)";

    private readonly Lock _lock = new();
    private readonly List<DeadLetter> _letters = [];
    private readonly TaskCompletionSource _failed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;

    /// <summary>Gets a task that completes when the store first refused a write.</summary>
    public Task FirstFailure => _failed.Task;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _letters.Count;
            }
        }
    }

    /// <summary>Makes the next <paramref name="writes"/> calls to <see cref="AddAsync"/> throw an <see cref="IOException"/>.</summary>
    public void FailNext(int writes) => Volatile.Write(ref _failuresLeft, writes);

    public ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        var left = Volatile.Read(ref _failuresLeft);
        while (left > 0)
        {
            var seen = Interlocked.CompareExchange(ref _failuresLeft, left - 1, left);
            if (seen == left)
            {
                _failed.TrySetResult();
                throw new IOException(FailureMessage);
            }

            left = seen;
        }

        lock (_lock)
        {
            _letters.Add(deadLetter);
        }

        return default;
    }

    public ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            IEnumerable<DeadLetter> matches = _letters.Where(d => query?.Matches(d) ?? true);
            if (query?.Limit is { } limit)
            {
                matches = matches.Take(limit);
            }

            return new([.. matches]);
        }
    }

    public ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return new(_letters.Find(d => d.Id == id));
        }
    }

    public ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return new(_letters.RemoveAll(d => d.Id == id) > 0);
        }
    }

    public ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return new(_letters.RemoveAll(d => query?.Matches(d) ?? true));
        }
    }
}

/// <summary>
/// A clock whose wall-clock time can be stepped (as NTP or an operator steps a machine's clock) while its monotonic
/// timestamp and its timers, those of the test's <see cref="FakeTimeProvider"/>, do not move. A
/// <see cref="FakeTimeProvider"/> alone cannot show a clock step: its <see cref="FakeTimeProvider.SetUtcNow"/> moves
/// its timestamp and fires its timers too, so a step there is indistinguishable from time passing.
/// </summary>
internal sealed class SteppableWallClock(FakeTimeProvider monotonic) : TimeProvider
{
    private long _offsetTicks;

    public override long TimestampFrequency => monotonic.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => monotonic.LocalTimeZone;

    /// <summary>Steps the wall clock alone.</summary>
    public void Step(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => monotonic.GetUtcNow().AddTicks(Interlocked.Read(ref _offsetTicks));

    public override long GetTimestamp() => monotonic.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        monotonic.CreateTimer(callback, state, dueTime, period);
}

/// <summary>
/// The test's <see cref="FakeTimeProvider"/>, except that, once armed, the first thread to create a timer with
/// <paramref name="trappedDueTime"/> is held there until the test releases it (or, so that no test can hang on it,
/// until <see cref="HoldLimit"/> of real time has passed). A queue's <see cref="QueueOptions.ConsumerTimeout"/> set to that
/// distinctive value lets a test hold a worker at the point where it starts a delivery's deadline.
/// </summary>
internal sealed class TimerTrapClock(FakeTimeProvider inner, TimeSpan trappedDueTime) : TimeProvider
{
    /// <summary>The longest a trapped thread is held if the test never releases it.</summary>
    public static readonly TimeSpan HoldLimit = TimeSpan.FromSeconds(3);

    private readonly TaskCompletionSource _arrived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _armed;

    /// <summary>Gets a task that completes when a thread was trapped.</summary>
    public Task Arrived => _arrived.Task;

    public override long TimestampFrequency => inner.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => inner.LocalTimeZone;

    public void Arm() => Volatile.Write(ref _armed, 1);

    public void Release() => _released.TrySetResult();

    public override DateTimeOffset GetUtcNow() => inner.GetUtcNow();

    public override long GetTimestamp() => inner.GetTimestamp();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == trappedDueTime && Interlocked.Exchange(ref _armed, 0) == 1)
        {
            _arrived.TrySetResult();

            // Blocks the worker's thread on purpose: that is the point in the delivery this test freezes.
            _released.Task.Wait(HoldLimit);
        }

        return inner.CreateTimer(callback, state, dueTime, period);
    }
}
