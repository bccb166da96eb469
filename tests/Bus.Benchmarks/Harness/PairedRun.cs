using System.Diagnostics;
using System.Globalization;

namespace Bus.Benchmarks;

/// <summary>
/// Scenarios 1 and 3, Bus and the raw channel, all four started in one process and measured in turns: round after
/// round, each runs 200,000 messages, in an order that reverses every round. Each ratio is the median of the ratios
/// within a round, so both sides of it ran under the same conditions.
/// </summary>
/// <remarks>
/// This is a diagnostic beside the BenchmarkDotNet runs, not a replacement: on the 2-vCPU machine a ratio between two
/// single BenchmarkDotNet runs compares two processes run a minute apart (hence the quick run's
/// <see cref="InterleavedRounds"/>), and the machine's speed drifts (a single-threaded loop measured
/// 0.29 and 0.61 ns per iteration in two runs a second apart) while the producer-to-consumer hand-off flips between a
/// regime where the consumer keeps up and sleeps every few messages and one where the queue fills. Pairing within a
/// round removes the drift; what remains is the hand-off itself.
/// </remarks>
internal static class PairedRun
{
    public static async Task<int> RunAsync(int rounds)
    {
        (string Name, IThroughputHarness Harness)[] cases =
        [
            ("raw 1", new RawChannelHarness()),
            ("bus 1", BusHarness.OneConsumer(ConsumerLifetime.Singleton)),
            ("raw 4", new RawChannelHarness(readersPerChannel: 4)),
            ("bus 4", BusHarness.WorkQueue(4)),
        ];
        foreach (var (_, harness) in cases)
        {
            await harness.StartAsync();
        }

        await JitWarmup.RunAsync(async () =>
        {
            foreach (var (_, harness) in cases)
            {
                await harness.PublishAndWaitAsync(Sizes.PeerMessages);
            }
        });

        var times = cases.Select(_ => new List<double>()).ToArray();
        for (var round = 0; round < rounds; round++)
        {
            for (var turn = 0; turn < cases.Length; turn++)
            {
                var c = InterleavedRounds.CaseAt(round, turn, cases.Length);
                var start = Stopwatch.GetTimestamp();
                await cases[c].Harness.PublishAndWaitAsync(Sizes.Messages);
                times[c].Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / Sizes.Messages);
            }
        }

        foreach (var (_, harness) in cases)
        {
            await harness.DisposeAsync();
        }

        // Throughput ratios: a / b in time is b's throughput over a's.
        double Paired(int over, int under) => InterleavedRounds.Median(times[over].Zip(times[under], (o, u) => o / u));
        string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"paired, ns per message (median of {rounds} rounds): raw1={InterleavedRounds.Median(times[0]):0} bus1={InterleavedRounds.Median(times[1]):0} raw4={InterleavedRounds.Median(times[2]):0} bus4={InterleavedRounds.Median(times[3]):0}"));
        Console.WriteLine($"paired ratios: bus1/raw1={F(Paired(0, 1))} bus4/bus1={F(Paired(1, 3))} bus4/raw4={F(Paired(2, 3))} raw4/raw1={F(Paired(0, 2))}");
        return 0;
    }
}
