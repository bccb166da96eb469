using System.Collections.Concurrent;
using System.Diagnostics;
using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// One round of publishers racing a stop with no stop timeout: a fresh bus with one queue read by
/// <typeparamref name="TConsumer"/>, two publishers sending jobs until the bus refuses them, and a stop once the
/// consumers are busy. Returns what breaks the accounting (see <see cref="Accounting"/>).
/// </summary>
internal static class StopRace<TConsumer>
    where TConsumer : class
{
    public const string Queue = "work";

    /// <summary>Runs rounds until <paramref name="maxRounds"/> or the time budget is spent (after at least <paramref name="minRounds"/>).</summary>
    public static async Task<(int Rounds, List<string> Problems)> RunAsync(int minRounds, int maxRounds, TimeSpan budget, Func<int, int> prefetchOfRound, int concurrency)
    {
        var problems = new List<string>();
        var elapsed = Stopwatch.StartNew();
        var rounds = 0;
        var (accepted, reported, inFlight) = (0, 0, 0);
        while (rounds < maxRounds && (rounds < minRounds || elapsed.Elapsed < budget))
        {
            var round = await RoundAsync(prefetchOfRound(rounds), concurrency);
            foreach (var problem in round.Problems)
            {
                problems.Add($"round {rounds} (prefetch {prefetchOfRound(rounds)}): {problem}");
            }

            accepted += round.Accepted;
            reported += round.Reported;
            inFlight += round.InFlight;
            rounds++;
        }

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"{rounds} rounds in {elapsed.Elapsed}: {accepted} jobs accepted, {reported} reported at the stop ({inFlight} in flight), {problems.Count} problem(s)");
        return (rounds, problems);
    }

    private static async Task<(List<string> Problems, int Accepted, int Reported, int InFlight)> RoundAsync(int prefetch, int concurrency)
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .Configure(o => { o.StopTimeout = TimeSpan.Zero; o.DeadLetterCapacity = 1_000_000; })
                .AddQueue(Queue, q => { q.PrefetchCount = prefetch; q.Concurrency = concurrency; q.Capacity = 16; })
                .AddConsumer<TConsumer>(c => { c.Queue = Queue; c.Lifetime = ConsumerLifetime.Singleton; }),
            s => s.AddLedger());
        var ledger = bus.Get<Ledger>();
        var accepted = new ConcurrentBag<int>();
        var publishers = Enumerable.Range(0, 2).Select(publisher => Task.Run(async () =>
        {
            for (var id = publisher; ; id += 2)
            {
                try
                {
                    await bus.Publisher.SendAsync(Queue, new Job(id));
                }
                catch (BusNotRunningException)
                {
                    return;
                }

                accepted.Add(id);
            }
        })).ToArray();

        await ledger.WhenAcknowledgedAsync(20);
        var report = await bus.Bus.StopAsync().WithinGuardAsync("The stop");
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
        return (
            Accounting.Problems(accepted, ledger.Acknowledged, report.Unprocessed, deadLetters, DeadLetterReason.BusStopped),
            accepted.Count,
            report.Unprocessed.Count,
            report.Unprocessed.Count(u => u.WasInFlight));
    }
}
