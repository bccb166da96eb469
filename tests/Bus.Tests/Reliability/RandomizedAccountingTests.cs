using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Bus.Tests.Regressions;
using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

/// <summary>
/// Issue 13's randomized accounting test: the core's promise (every accepted message ends exactly once: acknowledged,
/// dead-lettered with a reason, or reported unprocessed) checked per message id after runs that interleave, from two
/// threads, publishes and sends, scheduled publishes and their cancellation, immediate and delayed retries, rejections,
/// consumers that are slow on the fake clock or stuck past the stop, dead-letter store failures, queue deletions and
/// the stop; and each queue's ledger balanced once the bus stopped.
/// </summary>
/// <remarks>
/// <para>
/// Each round builds a fresh bus on a fake clock and has a seed, which decides the bus (stop timeout, schedule
/// capacity, the options of four queues: competing consumers, prefetch, capacity, full mode, retry policy), the
/// operations of each of the two threads (send, publish, schedule soon or far, cancel a schedule, list the schedule,
/// move the clock, make the dead-letter store fail its next writes, yield, delete a queue and mostly declare it again),
/// how each deletion ends its drain (a cancelled token, no token, or a token the clock cancels), whether thread 0 stops
/// the bus while both threads still work or the stop comes after them, and what the consumer does on each (job,
/// attempt): succeed, fail, reject, take time on the fake clock, or hang past the stop ignoring its token. The threads'
/// interleaving is the machine's, so a round replays the same operations and plans, not the same timing. The first
/// round's seed is <see cref="DefaultSeed"/>, or the <c>BUS_TEST_SEED</c> environment variable when set; each later
/// round adds one; <c>BUS_TEST_ROUNDS</c> sets how many rounds run (for a longer soak). A failure names the seed of its
/// round: set <c>BUS_TEST_SEED</c> to it to run that round first.
/// </para>
/// <para>
/// Nothing waits on time: the stop gets its clock moved past twice its timeout at once, so it gives up on what still
/// runs; hanging consumers are released after the stop; every wait on the bus is bounded by
/// <see cref="Regression.WithinGuardAsync(Task, string)"/>.
/// </para>
/// <para>
/// How a job may end, and how each end is seen from outside: acknowledged (<see cref="IBusObserver.OnConsumed"/>, the
/// bus's own word, not the consumer's); dead-lettered with a final reason (in the store); reported in a
/// <see cref="DrainReport"/> of the stop or of a deletion (a reported message may also be copied into the store with
/// <see cref="DeadLetterReason.BusStopped"/> or <see cref="DeadLetterReason.QueueDeleted"/>: that copy is part of the
/// report, not another end); dead-lettered with one of those two reasons without being reported (a message that came
/// back after its queue's report was taken); cancelled while scheduled (<see cref="IMessageBus.CancelScheduled"/>
/// returned true); or, for a scheduled message whose queue was deleted before it came due, unroutable (log event 30).
/// </para>
/// <para>
/// Which jobs were accepted: a publish, send or schedule that did not throw. One exception, by design: a publish or send
/// that overlaps the deletion of its queue may have been routed to the queue just before it closed, which then silently
/// refuses it (as RabbitMQ does): such a job ends at most once. A refused job must end nowhere.
/// </para>
/// </remarks>
public sealed class RandomizedAccountingTests
{
    /// <summary>The seed of the first round when <c>BUS_TEST_SEED</c> is not set.</summary>
    private const int DefaultSeed = 1_300;

    /// <summary>How many rounds run when <c>BUS_TEST_ROUNDS</c> is not set.</summary>
    private const int DefaultRounds = 150;

    [Fact]
    public async Task Every_accepted_message_ends_exactly_once_and_every_ledger_balances_whatever_the_interleaving()
    {
        var firstSeed = FromEnvironment("BUS_TEST_SEED", DefaultSeed);
        var rounds = Math.Max(1, FromEnvironment("BUS_TEST_ROUNDS", DefaultRounds));
        var output = TestContext.Current.TestOutputHelper;
        output?.WriteLine($"Rounds with seeds {firstSeed} to {unchecked(firstSeed + rounds - 1)}; replay one with BUS_TEST_SEED=<its seed>.");

        var problems = new List<string>();
        var total = new Tally();
        var failedSeeds = new List<int>();
        var elapsed = Stopwatch.StartNew();
        for (var round = 0; round < rounds; round++)
        {
            var seed = unchecked(firstSeed + round);
            var result = await new Round(seed).RunAsync();
            total.Add(result.Tally);
            if (round == 0 || result.Problems.Count > 0)
            {
                output?.WriteLine(result.Summary);
            }

            if (result.Problems.Count > 0)
            {
                failedSeeds.Add(seed);
                problems.AddRange(result.Problems.Select(p => $"seed {seed}: {p}"));
                foreach (var problem in result.Problems.Take(20))
                {
                    output?.WriteLine($"  seed {seed}: {problem}");
                }
            }
        }

        output?.WriteLine($"{rounds} rounds in {elapsed.Elapsed.TotalSeconds:0.00} s: {total}");
        problems.Should().BeEmpty(
            "every accepted job must end exactly once and every ledger balance after the stop ({0} problem(s) in the rounds of seed(s) {1}; replay with BUS_TEST_SEED=<seed>; the first: {2})",
            problems.Count,
            string.Join(", ", failedSeeds),
            string.Join(" | ", problems.Take(5)));
        total.Acknowledged.Should().BePositive("consumers acknowledged jobs, or the test exercised nothing (seed {0})", firstSeed);
        total.Reported.Should().BePositive("stops and deletions left work unprocessed, or the test exercised nothing (seed {0})", firstSeed);
    }

    private static int FromEnvironment(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) ? value : fallback;

    /// <summary>A deterministic hash (SplitMix64's finalizer): <see cref="HashCode"/> is seeded per process and could not be replayed.</summary>
    private static ulong Mix(ulong value)
    {
        value += 0x9E3779B97F4A7C15;
        value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9;
        value = (value ^ (value >> 27)) * 0x94D049BB133111EB;
        return value ^ (value >> 31);
    }

    /// <summary>What a consumer does with one delivery.</summary>
    internal enum Behaviour
    {
        Succeed,
        SucceedAfterYield,
        Fail,
        FailAfterYield,
        Reject,

        /// <summary>Waits on the fake clock, honouring its token (cancelled when the stop or a deletion gives up), then succeeds.</summary>
        Slow,

        /// <summary>Ignores its token and waits until the round releases it after the stop, then succeeds.</summary>
        Stuck,
    }

    /// <summary>How each queue of a round is set up, from the round's seed.</summary>
    private sealed record QueueSetup(string Name, int Concurrency, int Prefetch, int Capacity, QueueFullMode FullMode, IRetryPolicy Retry, string RetryName, TimeSpan? ConsumerTimeout, TimeSpan? TimeToLive)
    {
        public void Apply(QueueOptions options)
        {
            options.Concurrency = Concurrency;
            options.PrefetchCount = Prefetch;
            options.Capacity = Capacity;
            options.FullMode = FullMode;
            options.RetryPolicy = Retry;
            options.ConsumerTimeout = ConsumerTimeout;
            options.TimeToLive = TimeToLive;
        }

        public override string ToString() =>
            $"{Name}(c{Concurrency} p{Prefetch} cap{Capacity} {FullMode} {RetryName}{(ConsumerTimeout is { } t ? $" timeout {t.TotalMilliseconds}ms" : string.Empty)}{(TimeToLive is { } ttl ? $" ttl {ttl.TotalMilliseconds}ms" : string.Empty)})";
    }

    /// <summary>The consumer's script for a round: the behaviour of every (job, attempt), decided by the seed.</summary>
    internal sealed class Plan(int seed, int stuckPercent)
    {
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Completes when the round releases the stuck consumers (after the stop).</summary>
        public Task Released => _released.Task;

        public void Release() => _released.TrySetResult();

        public Behaviour Decide(int job, int attempt)
        {
            var roll = Roll(job, attempt, 1);
            return roll switch
            {
                < 42 => Behaviour.Succeed,
                < 54 => Behaviour.SucceedAfterYield,
                < 66 => Behaviour.Fail,
                < 72 => Behaviour.FailAfterYield,
                < 77 => Behaviour.Reject,
                < 90 => Behaviour.Slow,
                _ => roll < 90 + stuckPercent ? Behaviour.Stuck : Behaviour.Succeed,
            };
        }

        /// <summary>How long a slow delivery takes on the fake clock: 100 ms to 2 s.</summary>
        public TimeSpan SlowFor(int job, int attempt) => TimeSpan.FromMilliseconds(100 + (Roll(job, attempt, 2) * 19));

        private int Roll(int job, int attempt, int salt) =>
            (int)(Mix(((ulong)(uint)seed << 32) ^ Mix(((ulong)(uint)job << 24) ^ ((ulong)(uint)attempt << 8) ^ (uint)salt)) % 100);
    }

    /// <summary>Does what the plan says with each delivery.</summary>
    internal sealed class ChaosConsumer(Plan plan, TimeProvider time) : IConsumer<Job>
    {
        /// <summary>
        /// Completes when the bus's fake clock has moved <paramref name="span"/> on (a timer of that clock), or when the
        /// token is cancelled: the consumer takes time only when a thread of the test moves the clock.
        /// </summary>
        private async Task UntilClockPassesAsync(TimeSpan span, CancellationToken cancellationToken)
        {
            var passed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            await using var timer = time.CreateTimer(static state => ((TaskCompletionSource)state!).TrySetResult(), passed, span, Timeout.InfiniteTimeSpan);
            await passed.Task.WaitAsync(cancellationToken);
        }

        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            var job = context.Message.Id;
            var attempt = context.DeliveryCount;
            switch (plan.Decide(job, attempt))
            {
                case Behaviour.SucceedAfterYield:
                    await Task.Yield();
                    break;
                case Behaviour.Fail:
                    throw new InvalidOperationException($"attempt {attempt} of job {job} fails (planned)");
                case Behaviour.FailAfterYield:
                    await Task.Yield();
                    throw new InvalidOperationException($"attempt {attempt} of job {job} fails after yielding (planned)");
                case Behaviour.Reject:
                    context.Reject($"attempt {attempt} of job {job} is rejected (planned)");
                    break;
                case Behaviour.Slow:
                    await UntilClockPassesAsync(plan.SlowFor(job, attempt), cancellationToken);
                    break;
                case Behaviour.Stuck:
                    // Ignores its token on purpose: the stop (or a deletion) must take it over.
                    await plan.Released;
                    break;
            }
        }
    }

    /// <summary>Every acknowledgement, with its queue: the bus's own word on what it consumed.</summary>
    internal sealed class Acknowledgements : IBusObserver
    {
        private readonly ConcurrentQueue<(int Job, string Queue)> _all = new();

        public IReadOnlyList<(int Job, string Queue)> All => [.. _all];

        public void OnConsumed(in Envelope envelope, string queue, Type consumerType)
        {
            if (envelope.Message is Job job)
            {
                _all.Enqueue((job.Id, queue));
            }
        }
    }

    private enum JobKind
    {
        Send,
        Publish,
        ScheduleSoon,
        ScheduleFar,
    }

    private enum DeletionKind
    {
        /// <summary>With a token already cancelled: take over at once.</summary>
        Cancelled,

        /// <summary>With no token: drain first (which may last until the stop aborts the queue).</summary>
        Draining,

        /// <summary>With a token the fake clock cancels a little later: drain, then give up.</summary>
        ClockCancelled,
    }

    /// <summary>One job: what was asked, between which ticks of the round's logical clock, and how the bus answered.</summary>
    private sealed class JobRecord(int id, JobKind kind, string queue)
    {
        public int Id { get; } = id;

        public JobKind Kind { get; } = kind;

        public string Queue { get; } = queue;

        /// <summary>The message id the job is published with: its job id, recognisable in logs.</summary>
        public Guid MessageId { get; } = new(id, 0x7e57, 0x5eed, 0, 0, 0, 0, 0, 0, 0, 0);

        public long Start { get; set; }

        public long End { get; set; }

        public bool Accepted { get; set; }

        public Exception? Refusal { get; set; }

        public int Cancelled;

        public bool IsScheduled => Kind is JobKind.ScheduleSoon or JobKind.ScheduleFar;

        public override string ToString() => $"job {Id} ({Kind} to {Queue})";
    }

    private sealed class Deletion(string queue, DeletionKind kind, TimeSpan cancelAfter)
    {
        public string Queue { get; } = queue;

        public DeletionKind Kind { get; } = kind;

        public TimeSpan CancelAfter { get; } = cancelAfter;

        /// <summary>The tick before the delete was called.</summary>
        public long Start { get; set; }

        /// <summary>The tick after the call returned: the queue was unbound, removed and closed by then.</summary>
        public long Closed { get; set; } = long.MaxValue;

        public Task<DrainReport>? Task { get; set; }

        public CancellationTokenSource? Cancellation { get; set; }

        public override string ToString() => $"delete {Queue} ({Kind}{(Kind == DeletionKind.ClockCancelled ? $" after {CancelAfter.TotalMilliseconds} ms" : string.Empty)})";
    }

    private sealed class Tally
    {
        public long Accepted;
        public long Ambiguous;
        public long Refused;
        public long Acknowledged;
        public long DeadLettered;
        public long Reported;
        public long ReportedInFlight;
        public long Cancelled;
        public long Unroutable;
        public long LateDeadLetters;
        public long StoreFailures;
        public long Retried;
        public long Deletions;

        public void Add(Tally other)
        {
            Accepted += other.Accepted;
            Ambiguous += other.Ambiguous;
            Refused += other.Refused;
            Acknowledged += other.Acknowledged;
            DeadLettered += other.DeadLettered;
            Reported += other.Reported;
            ReportedInFlight += other.ReportedInFlight;
            Cancelled += other.Cancelled;
            Unroutable += other.Unroutable;
            LateDeadLetters += other.LateDeadLetters;
            StoreFailures += other.StoreFailures;
            Retried += other.Retried;
            Deletions += other.Deletions;
        }

        public override string ToString() =>
            $"{Accepted} accepted ({Ambiguous} racing a deletion), {Refused} refused; ended: {Acknowledged} acknowledged, {DeadLettered} dead-lettered, " +
            $"{Reported} reported ({ReportedInFlight} in flight), {Cancelled} cancelled, {Unroutable} unroutable when due, {LateDeadLetters} dead-lettered late; " +
            $"{Retried} retries, {StoreFailures} store failures, {Deletions} deletions";
    }

    private sealed record RoundResult(string Summary, Tally Tally, IReadOnlyList<string> Problems);

    /// <summary>One round: a fresh bus, two threads of seeded operations, the stop, and the accounting.</summary>
    private sealed class Round
    {
        private const string Exchange = "jobs";
        private const string ScheduledQueue = "(scheduled)";

        /// <summary>How the bus describes the dead letter of a message that came back after its queue's report was taken.</summary>
        private const string LateDescription = "it came back after its queue was closed and reported";

        /// <summary>How many operations each thread makes in a round.</summary>
        private const int ActionsPerThread = 250;

        private readonly int _seed;
        private readonly TimeSpan _stopTimeout;
        private readonly int _scheduledCapacity;
        private readonly QueueSetup[] _queues;
        private readonly int _stuckPercent;
        private readonly int? _stopAt;
        private readonly int _maxDeletions;
        private readonly HashSet<string> _declared;
        private readonly List<BusQueue> _queueInstances = [];
        private readonly ConcurrentDictionary<int, JobRecord> _jobs = new();
        private readonly List<JobRecord> _scheduled = [];
        private readonly List<Deletion> _deletions = [];
        private readonly ConcurrentQueue<Task> _waitingPublishes = new();
        private readonly ConcurrentQueue<string> _problems = new();
        private readonly Lock _lock = new();
        private TestBus _bus = null!;
        private FlakyDeadLetterStore _store = null!;
        private Task<DrainReport>? _stopping;
        private long _stopTick = long.MaxValue;
        private long _tick;
        private int _nextJob;

        public Round(int seed)
        {
            _seed = seed;
            var random = new Random(seed);
            _stopTimeout = random.Next(4) switch
            {
                0 or 1 => TimeSpan.Zero,
                2 => TimeSpan.FromSeconds(1),
                _ => TimeSpan.FromSeconds(4),
            };
            _scheduledCapacity = random.Next(4) == 0 ? 12 : 100_000;
            _stuckPercent = random.Next(3) == 0 ? 0 : random.Next(1, 4);
            _queues =
            [
                new("q0", random.Next(1, 4), 1, random.Next(2) == 0 ? 8 : 1_024, QueueFullMode.Wait, RetryPolicy.None, "no retries", null, null),
                new("q1", 2, random.Next(2, 5), random.Next(2) == 0 ? 4 : 16, random.Next(3) == 0 ? QueueFullMode.Reject : QueueFullMode.Wait, RetryPolicy.Immediate(2), "2 immediate retries", null, null),
                random.Next(2) == 0
                    ? new("q2", random.Next(1, 3), random.Next(1, 3), 1_024, QueueFullMode.Wait, RetryPolicy.Intervals(TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(1_500)), "retries after 0.5 s and 1.5 s", TimeSpan.FromMilliseconds(1_500), null)
                    : new("q2", random.Next(1, 3), random.Next(1, 3), 1_024, QueueFullMode.Wait, RetryPolicy.Interval(3, TimeSpan.FromSeconds(1)), "3 retries after 1 s", null, null),
                new("q3", 1, random.Next(1, 4), random.Next(2, 7), random.Next(2) == 0 ? QueueFullMode.DropOldest : QueueFullMode.DropNewest, RetryPolicy.Interval(1, TimeSpan.FromMilliseconds(700)), "1 retry after 0.7 s", null, random.Next(2) == 0 ? TimeSpan.FromSeconds(2) : null),
            ];

            // Up to this many queue deletions (a deleted queue is mostly declared again, so traffic goes on).
            _maxDeletions = random.Next(4) switch { 0 => 0, 1 => 2, _ => 6 };
            _declared = [.. _queues.Select(q => q.Name)];

            // In half of the rounds thread 0 stops the bus while both threads still have work to do.
            _stopAt = random.Next(2) == 0 ? random.Next(ActionsPerThread / 2, ActionsPerThread) : null;
        }

        public async Task<RoundResult> RunAsync()
        {
            var elapsed = Stopwatch.StartNew();
            var tally = new Tally();
            var bus = await TestBus.StartAsync(
                b =>
                {
                    b.Configure(o =>
                    {
                        o.StopTimeout = _stopTimeout;
                        o.ScheduledCapacity = _scheduledCapacity;
                    });
                    b.AddExchange(Exchange, ExchangeType.Direct);
                    foreach (var queue in _queues)
                    {
                        b.AddQueue(queue.Name, queue.Apply)
                            .Bind(Exchange, queue.Name, queue.Name)
                            .AddConsumer<ChaosConsumer>(c =>
                            {
                                c.Queue = queue.Name;
                                c.Lifetime = ConsumerLifetime.Singleton;
                            });
                    }
                },
                s => s
                    .AddSingleton(new Plan(_seed, _stuckPercent))
                    .AddSingleton<Acknowledgements>()
                    .AddSingleton<IBusObserver>(provider => provider.GetRequiredService<Acknowledgements>())
                    .AddFlakyDeadLetterStore());
            _bus = bus;
            _store = bus.Get<FlakyDeadLetterStore>();
            try
            {
                await ExerciseAndCheckAsync(tally);
            }
            finally
            {
                try
                {
                    await bus.DisposeAsync();
                }
                catch (Exception exception)
                {
                    Problem($"disposing the bus failed: {exception}");
                }
            }

            var summary =
                $"seed {_seed}: {elapsed.ElapsedMilliseconds} ms, stop timeout {_stopTimeout.TotalSeconds} s{(_stopAt is { } at ? $", stopped by thread 0 at its action {at}" : ", stopped after the threads")}, " +
                $"schedule capacity {_scheduledCapacity}, stuck {_stuckPercent}%, [{string.Join(", ", _queues.Select(q => q.ToString()))}], " +
                $"[{string.Join(", ", _deletions)}]: {tally}; {_problems.Count} problem(s)";
            return new RoundResult(summary, tally, [.. _problems]);
        }

        /// <summary>Runs the two threads, stops the bus, and checks what became of every job.</summary>
        private async Task ExerciseAndCheckAsync(Tally tally)
        {
            var bus = _bus;

            // Held from the start: a deleted queue leaves the topology, and its ledger must still balance.
            _queueInstances.AddRange(((BusTopology)bus.Bus.Topology).QueueList);
            var schedule = ((MessageBus)bus.Bus).Delayed;

            var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var threads = Enumerable.Range(0, 2).Select(thread => Task.Run(async () =>
            {
                await start.Task;
                await WorkAsync(thread);
            })).ToArray();
            start.SetResult();
            await Expect(Task.WhenAll(threads), "the two threads of operations");

            StartStop();
            DrainReport? stopReport = null;
            try
            {
                stopReport = await _stopping!.WithinGuardAsync("The stop");
            }
            catch (Exception exception)
            {
                Problem($"the stop failed: {exception}");
            }

            // Stuck consumers finish now, long after the stop took them over: nothing they do may count.
            bus.Get<Plan>().Release();
            await Expect(Task.WhenAll(_waitingPublishes), "the publishes that waited for room");
            var reports = new List<(string Source, UnprocessedMessage Message)>();
            reports.AddRange((stopReport?.Unprocessed ?? []).Select(u => ("the stop", u)));
            foreach (var deletion in _deletions)
            {
                try
                {
                    var report = await deletion.Task!.WithinGuardAsync($"The deletion of {deletion.Queue}");
                    reports.AddRange(report.Unprocessed.Select(u => ($"the deletion of {deletion.Queue}", u)));
                }
                catch (Exception exception)
                {
                    Problem($"{deletion} failed: {exception.GetType().Name}: {exception.Message}");
                }
                finally
                {
                    deletion.Cancellation?.Dispose();
                }
            }

            var queues = _queueInstances.ToArray();
            foreach (var queue in queues)
            {
                if (queue.Ledger.Read() is { Pending: not 0 } unbalanced)
                {
                    Problem($"queue {queue.Name}'s ledger does not balance after the stop: {unbalanced} (pending {unbalanced.Pending})");
                }
            }

            if (schedule.Ledger.Read() is { Pending: not 0 } scheduleUnbalanced)
            {
                Problem($"the schedule's ledger does not balance after the stop: {scheduleUnbalanced} (pending {scheduleUnbalanced.Pending})");
            }

            tally.Deletions = _deletions.Count;
            tally.Retried = queues.Sum(q => q.GetStatistics().Retried);
            var acknowledgements = bus.Get<Acknowledgements>().All;
            CheckEveryJob(acknowledgements, reports, await _store.QueryAsync(), bus.Logs.Entries, tally);

            var consumed = queues.Sum(q => q.GetStatistics().Consumed);
            if (consumed != acknowledgements.Count)
            {
                Problem($"the queues' ledgers count {consumed} consumed, the observer saw {acknowledgements.Count} acknowledgements");
            }
        }

        private async Task WorkAsync(int thread)
        {
            var random = new Random(unchecked((_seed * 31) + thread + 1));
            for (var action = 0; action < ActionsPerThread; action++)
            {
                if (thread == 0 && action == _stopAt)
                {
                    StartStop();
                }

                var roll = random.Next(100);
                switch (roll)
                {
                    case < 3:
                        await DeleteAsync(random);
                        break;
                    case < 31:
                        await PublishAsync(random, JobKind.Send);
                        break;
                    case < 45:
                        await PublishAsync(random, JobKind.Publish);
                        break;
                    case < 55:
                        Schedule(random, JobKind.ScheduleSoon);
                        break;
                    case < 59:
                        Schedule(random, JobKind.ScheduleFar);
                        break;
                    case < 67:
                        Cancel(random);
                        break;
                    case < 69:
                        ListScheduled();
                        break;
                    case < 80:
                        _bus.Time.Advance(TimeSpan.FromMilliseconds(random.Next(50, 2_000)));
                        break;
                    case < 83:
                        _store.FailNext(random.Next(1, 4));
                        break;
                    default:
                        await Task.Yield();
                        break;
                }
            }
        }

        /// <summary>Publishes through the direct exchange (mandatory) or sends to the queue; a wait for room is finished later.</summary>
        private async Task PublishAsync(Random random, JobKind kind)
        {
            var record = NewJob(kind, _queues[random.Next(_queues.Length)].Name);
            var job = new Job(record.Id);
            record.Start = Tick();
            ValueTask publishing;
            try
            {
                publishing = kind == JobKind.Send
                    ? _bus.Publisher.SendAsync(record.Queue, job, new PublishOptions { MessageId = record.MessageId })
                    : _bus.Publisher.PublishAsync(job, new PublishOptions { Exchange = Exchange, RoutingKey = record.Queue, MessageId = record.MessageId, Mandatory = true });
            }
            catch (Exception exception)
            {
                record.Refusal = exception;
                record.End = Tick();
                return;
            }

            if (publishing.IsCompleted)
            {
                await FinishAsync(publishing, record);
            }
            else
            {
                // Waiting for room in a full queue: the thread goes on; the stop or a deletion ends the wait at the latest.
                _waitingPublishes.Enqueue(FinishAsync(publishing, record));
            }
        }

        private async Task FinishAsync(ValueTask publishing, JobRecord record)
        {
            try
            {
                await publishing;
                record.Accepted = true;
            }
            catch (Exception exception)
            {
                record.Refusal = exception;
            }
            finally
            {
                record.End = Tick();
            }
        }

        private void Schedule(Random random, JobKind kind)
        {
            var record = NewJob(kind, _queues[random.Next(_queues.Length)].Name);
            var delay = kind == JobKind.ScheduleFar ? TimeSpan.FromHours(1) : TimeSpan.FromMilliseconds(random.Next(0, 2_500));
            record.Start = Tick();
            try
            {
                var scheduling = _bus.Bus.ScheduleAsync(new Job(record.Id), delay, new PublishOptions { Exchange = Exchange, RoutingKey = record.Queue, MessageId = record.MessageId });
                if (!scheduling.IsCompletedSuccessfully)
                {
                    Problem($"{record}: ScheduleAsync did not complete at once ({scheduling.Status})");
                }

                record.Accepted = true;
                lock (_lock)
                {
                    _scheduled.Add(record);
                }
            }
            catch (Exception exception)
            {
                record.Refusal = exception;
            }
            finally
            {
                record.End = Tick();
            }
        }

        private void Cancel(Random random)
        {
            JobRecord target;
            lock (_lock)
            {
                if (_scheduled.Count == 0)
                {
                    return;
                }

                target = _scheduled[random.Next(_scheduled.Count)];
            }

            if (_bus.Bus.CancelScheduled(target.MessageId))
            {
                Interlocked.Increment(ref target.Cancelled);
            }
        }

        /// <summary>Lists the schedule: only scheduled jobs may be in it, each once, and none that was cancelled.</summary>
        private void ListScheduled()
        {
            // Read before listing: a cancellation seen here completed before the list was taken.
            HashSet<int> cancelled;
            lock (_lock)
            {
                cancelled = [.. _scheduled.Where(r => Volatile.Read(ref r.Cancelled) > 0).Select(r => r.Id)];
            }

            var listed = _bus.Bus.GetScheduledMessages();
            foreach (var message in listed)
            {
                if (message.Envelope.Message is not Job job || !_jobs.TryGetValue(job.Id, out var record) || !record.IsScheduled)
                {
                    Problem($"the schedule lists {message.Envelope.Message}, which was never scheduled");
                }
                else if (cancelled.Contains(record.Id))
                {
                    Problem($"the schedule still lists {record} after it was cancelled");
                }
            }

            if (listed.Select(m => m.Id).Distinct().Count() != listed.Count)
            {
                Problem("the schedule lists a message twice");
            }
        }

        /// <summary>
        /// Deletes a declared queue (with a cancelled token, none, or one the fake clock cancels later), then mostly
        /// declares it again, with its consumer and binding, so that traffic to it goes on.
        /// </summary>
        private async Task DeleteAsync(Random random)
        {
            var kind = (DeletionKind)random.Next(3);
            var cancelAfter = TimeSpan.FromMilliseconds(random.Next(100, 2_000));
            var declareAgain = random.Next(4) != 0;
            Deletion deletion;
            lock (_lock)
            {
                var candidates = _queues.Where(q => _declared.Contains(q.Name)).ToList();
                if (_deletions.Count >= _maxDeletions || candidates.Count == 0)
                {
                    return;
                }

                deletion = new Deletion(candidates[random.Next(candidates.Count)].Name, kind, cancelAfter);
                _declared.Remove(deletion.Queue);
                _deletions.Add(deletion);
            }

            var token = deletion.Kind switch
            {
                DeletionKind.Cancelled => new CancellationToken(canceled: true),
                DeletionKind.ClockCancelled => (deletion.Cancellation = new CancellationTokenSource(deletion.CancelAfter, _bus.Time)).Token,
                _ => CancellationToken.None,
            };
            deletion.Start = Tick();
            try
            {
                deletion.Task = _bus.Bus.Topology.DeleteQueueAsync(deletion.Queue, token);
            }
            catch (Exception exception)
            {
                deletion.Task = Task.FromException<DrainReport>(exception);
            }
            finally
            {
                deletion.Closed = Tick();
            }

            if (deletion.Kind == DeletionKind.Cancelled)
            {
                // Ends without the clock: it takes over whatever still runs. A failure is reported with the others, at the end.
                try
                {
                    await deletion.Task.WithinGuardAsync($"The deletion of {deletion.Queue}");
                }
                catch (Exception)
                {
                }
            }

            if (declareAgain && Volatile.Read(ref _stopTick) == long.MaxValue)
            {
                Declare(Array.Find(_queues, q => q.Name == deletion.Queue)!);
            }
        }

        /// <summary>Declares a queue again while the bus runs: the queue, its consumer, its binding.</summary>
        private void Declare(QueueSetup setup)
        {
            var options = new QueueOptions();
            setup.Apply(options);
            var topology = (BusTopology)_bus.Bus.Topology;
            try
            {
                topology.DeclareQueue(setup.Name, options);
                topology.AddConsumer<ChaosConsumer>(setup.Name, ConsumerLifetime.Singleton);
                topology.Bind(new Binding(Exchange, setup.Name, setup.Name));
                lock (_lock)
                {
                    _queueInstances.Add(topology.GetQueueRoute(setup.Name)[0]);
                    _declared.Add(setup.Name);
                }
            }
            catch (Exception exception)
            {
                Problem($"declaring {setup.Name} again failed: {exception}");
            }
        }

        /// <summary>Starts the stop once, and moves the clock past twice its timeout, so that it gives up on what runs.</summary>
        private void StartStop()
        {
            if (Interlocked.CompareExchange(ref _stopTick, Tick(), long.MaxValue) != long.MaxValue)
            {
                return;
            }

            _stopping = _bus.Bus.StopAsync();
            if (_stopTimeout > TimeSpan.Zero)
            {
                _bus.Time.Advance(_stopTimeout + _stopTimeout + TimeSpan.FromMilliseconds(1));
            }
        }

        /// <summary>Checks the promise per job, from what the bus said about each: acknowledgements, reports, dead letters, logs.</summary>
        private void CheckEveryJob(
            IReadOnlyList<(int Job, string Queue)> acknowledgements,
            List<(string Source, UnprocessedMessage Message)> reports,
            IReadOnlyList<DeadLetter> deadLetters,
            IReadOnlyList<LogEntry> logs,
            Tally tally)
        {
            var acknowledged = acknowledgements.ToLookup(a => a.Job);
            var reported = reports.ToLookup(r => JobOf(r.Message.Envelope));
            var dead = deadLetters.ToLookup(d => JobOf(d.Envelope));
            var unroutable = MessageIdsIn(logs, 30, "Scheduled message ");
            tally.StoreFailures = logs.Count(e => e.EventId == 29);
            foreach (var entry in logs.Where(e => e.EventId is 33 or 35))
            {
                Problem($"the bus logged a failure of its own (event {entry.EventId}): {entry.Message} {entry.Exception}");
            }

            foreach (var id in acknowledged.Select(g => g.Key).Concat(reported.Select(g => g.Key)).Concat(dead.Select(g => g.Key)).Distinct())
            {
                if (!_jobs.ContainsKey(id))
                {
                    Problem($"job {id} was never published, yet it was acknowledged, reported or dead-lettered");
                }
            }

            foreach (var record in _jobs.Values.OrderBy(r => r.Id))
            {
                var acks = acknowledged[record.Id].ToList();
                var reportsOfJob = reported[record.Id].ToList();
                var letters = dead[record.Id].ToList();
                var final = letters.Count(d => d.Reason is not (DeadLetterReason.BusStopped or DeadLetterReason.QueueDeleted));
                var copies = letters.Count - final;
                var late = Math.Max(0, copies - reportsOfJob.Count);
                var wasUnroutable = unroutable.Contains(record.MessageId) ? 1 : 0;
                var cancelled = Volatile.Read(ref record.Cancelled);
                var ends = acks.Count + reportsOfJob.Count + final + late + wasUnroutable + cancelled;

                tally.Acknowledged += acks.Count;
                tally.Reported += reportsOfJob.Count;
                tally.ReportedInFlight += reportsOfJob.Count(r => r.Message.WasInFlight);
                tally.DeadLettered += final;
                tally.LateDeadLetters += late;
                tally.Unroutable += wasUnroutable;
                tally.Cancelled += cancelled;

                string Describe() =>
                    $"{record}, accepted {record.Accepted} (refusal: {record.Refusal?.GetType().Name ?? "none"}; ticks {record.Start}-{record.End}): " +
                    $"acknowledged {acks.Count}× [{string.Join(", ", acks.Select(a => a.Queue))}], " +
                    $"reported {reportsOfJob.Count}× [{string.Join(", ", reportsOfJob.Select(r => $"{r.Source}: {r.Message.Queue}{(r.Message.WasInFlight ? " in flight" : string.Empty)}"))}], " +
                    $"dead-lettered [{string.Join(", ", letters.Select(d => $"{d.Reason} from {d.Queue} after {d.Attempts}"))}], " +
                    $"unroutable {wasUnroutable}, cancelled {cancelled}" +
                    $"; the log, numbered, its lines and those of stops and deletions: [{string.Join(" / ", logs.Select((e, i) => (e, i)).Where(x => x.e.EventId is 2 or 4 or 6 or 7 || x.e.Message.Contains(record.MessageId.ToString(), StringComparison.Ordinal)).Select(x => $"#{x.i} event {x.e.EventId}: {x.e.Message}"))}]";

                if (!record.Accepted)
                {
                    tally.Refused++;
                    if (ends != 0)
                    {
                        Problem($"{Describe()}: refused, yet it ended");
                    }

                    CheckRefusal(record);
                    continue;
                }

                var racedDeletion = !record.IsScheduled && _deletions.Exists(d => d.Queue == record.Queue && record.Start < d.Closed && record.End > d.Start);
                if (racedDeletion)
                {
                    tally.Ambiguous++;
                }

                tally.Accepted++;
                if (ends != 1 && !(racedDeletion && ends == 0))
                {
                    Problem($"{Describe()}: it must end exactly once{(racedDeletion ? " (or never: it raced the deletion of its queue)" : string.Empty)}");
                }

                if (copies > reportsOfJob.Count && reportsOfJob.Count > 0)
                {
                    Problem($"{Describe()}: more dead-letter copies than reports");
                }

                if (acks.Exists(a => a.Queue != record.Queue)
                    || reportsOfJob.Exists(r => r.Message.Queue != record.Queue && !(record.IsScheduled && r.Message.Queue == ScheduledQueue))
                    || letters.Exists(d => d.Queue != record.Queue && !(record.IsScheduled && d.Queue == ScheduledQueue)))
                {
                    Problem($"{Describe()}: it ended in another queue than its own");
                }

                if (wasUnroutable == 1 && !_deletions.Exists(d => d.Queue == record.Queue))
                {
                    Problem($"{Describe()}: unroutable when due although its queue was never deleted");
                }

                if (late == 1 && !letters.Exists(d => d.Description.StartsWith(LateDescription, StringComparison.Ordinal)))
                {
                    Problem($"{Describe()}: its dead letter is the copy of a report, but no report lists it");
                }
            }
        }

        /// <summary>A refusal must be one the bus documents for the situation the job met.</summary>
        private void CheckRefusal(JobRecord record)
        {
            var queueDeletedBefore = _deletions.Exists(d => d.Queue == record.Queue && d.Start < record.End);
            var stoppedBefore = Volatile.Read(ref _stopTick) < record.End;
            var setup = Array.Find(_queues, q => q.Name == record.Queue)!;
            var explained = record.Refusal switch
            {
                BusNotRunningException => stoppedBefore,
                QueueFullException => setup.FullMode == QueueFullMode.Reject,
                UnroutableMessageException => record.Kind == JobKind.Publish && queueDeletedBefore,
                ArgumentException => record.Kind == JobKind.Send && queueDeletedBefore,
                InvalidOperationException e => record.IsScheduled && e.Message.Contains("ScheduledCapacity", StringComparison.Ordinal),
                _ => false,
            };
            if (!explained)
            {
                Problem($"{record} was refused with {record.Refusal}, which nothing in the round explains (stopped before: {stoppedBefore}, its queue deleted before: {queueDeletedBefore})");
            }
        }

        private JobRecord NewJob(JobKind kind, string queue)
        {
            var record = new JobRecord(Interlocked.Increment(ref _nextJob), kind, queue);
            _jobs[record.Id] = record;
            return record;
        }

        private long Tick() => Interlocked.Increment(ref _tick);

        private void Problem(string problem) => _problems.Enqueue(problem);

        private async Task Expect(Task task, string what)
        {
            try
            {
                await task.WithinGuardAsync(what);
            }
            catch (Exception exception)
            {
                Problem($"{what} failed: {exception}");
            }
        }

        private static int JobOf(in Envelope envelope) => envelope.Message is Job job ? job.Id : -1;

        /// <summary>The message ids named by the log lines of one event, each written as "{prefix}{MessageId} ...".</summary>
        private static HashSet<Guid> MessageIdsIn(IReadOnlyList<LogEntry> logs, int eventId, string prefix)
        {
            var ids = new HashSet<Guid>();
            foreach (var entry in logs)
            {
                var at = entry.EventId == eventId ? entry.Message.IndexOf(prefix, StringComparison.Ordinal) : -1;
                if (at >= 0 && entry.Message.Length >= at + prefix.Length + 36 && Guid.TryParse(entry.Message.AsSpan(at + prefix.Length, 36), out var id))
                {
                    ids.Add(id);
                }
            }

            return ids;
        }
    }
}
