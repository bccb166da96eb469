using System.Diagnostics;
using Bus.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 6: a stop or queue delete that takes over in-flight work takes over the message actually being
/// delivered, never the one before it (already acknowledged), and every message ends exactly once.
/// </summary>
/// <remarks>
/// The window is a few instructions wide (a delivery marked in flight before its message reaches the consumer's
/// context), so the deterministic tests hold a worker inside it: the queue's <see cref="QueueOptions.ConsumerTimeout"/>
/// has a distinctive value, and a <see cref="TimerTrapClock"/> holds the worker when it starts that deadline's timer.
/// If a rewritten delivery path no longer starts the deadline there, the tests still check the accounting.
/// </remarks>
public sealed class InFlightTakeoverRegressionTests
{
    private const string Queue = "work";

    private static readonly TimeSpan TrapDue = TimeSpan.FromMinutes(17) + TimeSpan.FromSeconds(17);

    [Fact]
    public async Task A_queue_delete_taking_over_a_delivery_reports_the_message_being_delivered_not_the_one_before()
    {
        await using var bus = await StartTrappedAsync(stopTimeout: BusOptions.DefaultStopTimeout);
        var trap = bus.Get<TimerTrapClock>();
        try
        {
            await DeliverJob1ThenTrapJob2Async(bus);

            var report = await bus.Bus.Topology.DeleteQueueAsync(Queue, new CancellationToken(canceled: true)).WithinGuardAsync("The delete");
            trap.Release();

            report.Unprocessed.Select(u => u.JobId()).Should().NotContain(1, "job 1 was acknowledged before the delete began");
            var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
            Accounting.Problems([1, 2], bus.Get<Ledger>().Acknowledged, report.Unprocessed, deadLetters, DeadLetterReason.QueueDeleted)
                .Should().BeEmpty();
        }
        finally
        {
            trap.Release();
        }
    }

    [Fact]
    public async Task A_stop_taking_over_a_delivery_reports_the_message_being_delivered_not_the_one_before()
    {
        await using var bus = await StartTrappedAsync(stopTimeout: TimeSpan.Zero);
        var trap = bus.Get<TimerTrapClock>();
        try
        {
            await DeliverJob1ThenTrapJob2Async(bus);

            var report = await bus.Bus.StopAsync().WithinGuardAsync("The stop");
            trap.Release();

            report.Unprocessed.Select(u => u.JobId()).Should().NotContain(1, "job 1 was acknowledged before the stop began");
            var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
            Accounting.Problems([1, 2], bus.Get<Ledger>().Acknowledged, report.Unprocessed, deadLetters, DeadLetterReason.BusStopped)
                .Should().BeEmpty();
        }
        finally
        {
            trap.Release();
        }
    }

    [Fact]
    public async Task Queue_deletes_racing_busy_consumers_never_report_an_acknowledged_message()
    {
        await using var bus = await TestBus.StartAsync(b => b.Configure(o => o.DeadLetterCapacity = 1_000_000), s => s.AddLedger());
        var accepted = new List<int>();
        var reported = new List<UnprocessedMessage>();
        var elapsed = Stopwatch.StartNew();
        var rounds = 0;
        const int PerRound = 64;
        while (rounds < 1_000 && (rounds < 20 || elapsed.Elapsed < TimeSpan.FromSeconds(2)))
        {
            var queue = $"work-{rounds}";
            bus.Bus.Topology.DeclareQueue(queue, new QueueOptions { Concurrency = 2, Capacity = PerRound });
            bus.Bus.Topology.AddConsumer<BusyConsumer>(queue, ConsumerLifetime.Singleton);
            for (var id = rounds * PerRound; id < (rounds + 1) * PerRound; id++)
            {
                await bus.Publisher.SendAsync(queue, new Job(id));
                accepted.Add(id);
            }

            // Deleted while its consumers are still busy with it: the delete takes their in-flight work over at once.
            reported.AddRange((await bus.Bus.Topology.DeleteQueueAsync(queue, new CancellationToken(canceled: true)).WithinGuardAsync("The delete")).Unprocessed);
            rounds++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{rounds} deletes in {elapsed.Elapsed}: {accepted.Count} jobs accepted, {reported.Count} reported ({reported.Count(u => u.WasInFlight)} in flight)");
        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
        Accounting.Problems(accepted, bus.Get<Ledger>().Acknowledged, reported, deadLetters, DeadLetterReason.QueueDeleted)
            .ShouldBeNone("every job is acknowledged or reported by the delete, exactly once", rounds);
        reported.Should().NotBeEmpty("the deletes must have taken some work over, or this test checks nothing");
    }

    [Fact]
    public async Task Stops_racing_busy_consumers_never_report_an_acknowledged_message()
    {
        var (rounds, problems) = await StopRace<BusyConsumer>.RunAsync(
            minRounds: 20, maxRounds: 1_000, budget: TimeSpan.FromSeconds(2), prefetchOfRound: _ => 1, concurrency: 2);

        problems.ShouldBeNone("every accepted job is acknowledged or reported by the stop, exactly once", rounds);
    }

    /// <summary>
    /// A bus with <see cref="Queue"/> whose consumer timeout is <see cref="TrapDue"/>, read by a recording consumer,
    /// with a <see cref="Ledger"/> and a <see cref="TimerTrapClock"/> as its clock.
    /// </summary>
    private static Task<TestBus> StartTrappedAsync(TimeSpan stopTimeout) =>
        TestBus.StartAsync(
            b => b
                .Configure(o => o.StopTimeout = stopTimeout)
                .AddQueue(Queue, q => q.ConsumerTimeout = TrapDue)
                .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = Queue),
            s => s
                .AddLedger()
                .AddSingleton(provider => new TimerTrapClock(provider.GetRequiredService<FakeTimeProvider>(), TrapDue))
                .AddSingleton<TimeProvider>(provider => provider.GetRequiredService<TimerTrapClock>()));

    /// <summary>Job 1 is delivered and acknowledged; then the worker is held as it starts delivering job 2.</summary>
    private static async Task DeliverJob1ThenTrapJob2Async(TestBus bus)
    {
        var ledger = bus.Get<Ledger>();
        var trap = bus.Get<TimerTrapClock>();
        await bus.Publisher.SendAsync(Queue, new Job(1));
        await ledger.WhenAcknowledgedAsync(1);

        trap.Arm();
        await bus.Publisher.SendAsync(Queue, new Job(2));
        await Task.WhenAny(trap.Arrived, ledger.WhenAcknowledgedAsync(2)).WaitAsync(TestBus.Timeout);
    }

    /// <summary>Busy for a moment on each message, without awaiting: deliveries follow each other on the worker's thread.</summary>
    public sealed class BusyConsumer : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            Thread.SpinWait(1_000);
            return default;
        }
    }
}
