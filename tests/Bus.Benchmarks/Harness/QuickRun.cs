using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace Bus.Benchmarks;

/// <summary>
/// Scenarios 1-4 and 6 with few iterations, then one line of ratios from that same run; scenario 5's percentiles are
/// sampled directly (its BenchmarkDotNet cases run with <c>--filter '*RequestReply*'</c>, to keep this under three
/// minutes). Medians, not means: on a noisy
/// 2-core machine a single descheduled iteration would otherwise move the result. Every library runs with the thread
/// pool's idle spinning off: on 2 cores, idle workers spinning take the CPU the measured threads need and make each
/// run land in a fast or a slow mode by chance.
/// </summary>
internal static class QuickRun
{
    private static IConfig CreateConfig()
    {
        var job = Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(15)
            .WithInvocationCount(1)
            .WithUnrollFactor(1)
            .WithEnvironmentVariable(Program.SpinLimitVariable, "0")
            .WithId("Quick");
        return DefaultConfig.Instance
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile);
    }

    /// <summary>
    /// Scenario 1 (Bus and the raw channel) and scenario 3 (Bus) only, <paramref name="repeats"/> times, with the quick
    /// job; one line of ratios per repeat, for judging a change to the hot path in a few minutes.
    /// </summary>
    public static int RunScenarioOne(int repeats)
    {
        var config = CreateConfig().AddFilter(new BenchmarkDotNet.Filters.SimpleFilter(b =>
            (b.Descriptor.Type == typeof(OneQueueBenchmarks) && b.Descriptor.WorkloadMethod.Name is "Bus" or "RawChannel")
            || (b.Descriptor.Type == typeof(WorkQueueBenchmarks) && b.Descriptor.WorkloadMethod.Name == "Bus")));
        var lines = new List<string>();
        for (var r = 0; r < repeats; r++)
        {
            var reports = BenchmarkRunner.Run([typeof(OneQueueBenchmarks), typeof(WorkQueueBenchmarks)], config).SelectMany(s => s.Reports).ToList();
            double Median(Type type, string method) => reports.Single(x => x.BenchmarkCase.Descriptor.Type == type
                && x.BenchmarkCase.Descriptor.WorkloadMethod.Name == method).ResultStatistics!.Median;
            var bus = Median(typeof(OneQueueBenchmarks), "Bus");
            var raw = Median(typeof(OneQueueBenchmarks), "RawChannel");
            var work = Median(typeof(WorkQueueBenchmarks), "Bus");
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"scenario 1: bus={bus:0.0} raw={raw:0.0} ns/msg; bus/raw throughput={raw / bus:0.00}; scenario 3 / scenario 1 throughput={bus / work:0.00} (work={work:0.0})"));
        }

        Console.WriteLine();
        lines.ForEach(Console.WriteLine);
        return 0;
    }

    public static int Run()
    {
        var latency = MeasureRoundTrips();
        var config = CreateConfig();

        Type[] scenarios =
        [
            typeof(OneQueueBenchmarks),
            typeof(FanoutBenchmarks),
            typeof(WorkQueueBenchmarks),
            typeof(TopicBindingsBenchmarks),
            typeof(ScopedConsumerBenchmarks),
        ];
        var reports = BenchmarkRunner.Run(scenarios, config).SelectMany(s => s.Reports).ToList();

        BenchmarkReport Find(Type type, string method, Func<BenchmarkReport, bool>? where = null) =>
            reports.Single(r => r.BenchmarkCase.Descriptor.Type == type
                && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method
                && (where is null || where(r)));

        double Median(Type type, string method, Func<BenchmarkReport, bool>? where = null) =>
            Find(type, method, where).ResultStatistics!.Median;

        long Allocated(Type type, string method)
        {
            var report = Find(type, method);
            return report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;
        }

        bool Topic(BenchmarkReport report, int bindings, bool cached) =>
            (int)report.BenchmarkCase.Parameters["Bindings"] == bindings && (bool)report.BenchmarkCase.Parameters["Cached"] == cached;

        var bus = Median(typeof(OneQueueBenchmarks), "Bus");
        var raw = Median(typeof(OneQueueBenchmarks), "RawChannel");
        var wolverine = Median(typeof(OneQueueBenchmarks), "Wolverine");
        var massTransit = Median(typeof(OneQueueBenchmarks), "MassTransit");
        var rebus = Median(typeof(OneQueueBenchmarks), "Rebus");
        var busBytes = Allocated(typeof(OneQueueBenchmarks), "Bus");
        var rawBytes = Allocated(typeof(OneQueueBenchmarks), "RawChannel");
        var workQueue = Median(typeof(WorkQueueBenchmarks), "Bus");
        var topicTrie = Median(typeof(TopicBindingsBenchmarks), "Publish", r => Topic(r, 10_000, cached: false))
            / Median(typeof(TopicBindingsBenchmarks), "Publish", r => Topic(r, 10, cached: false));
        var topicCached = Median(typeof(TopicBindingsBenchmarks), "Publish", r => Topic(r, 10_000, cached: true))
            / Median(typeof(TopicBindingsBenchmarks), "Publish", r => Topic(r, 10, cached: true));

        string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine($"scenario 1, ns per message (median): bus={F(bus)} raw={F(raw)} wolverine={F(wolverine)} masstransit={F(massTransit)} rebus={F(rebus)}");
        Console.WriteLine($"scenario 1, bytes allocated per message: bus={busBytes} raw={rawBytes} (the message itself); bus beyond the message={busBytes - rawBytes}");
        Console.WriteLine($"scenario 3 / scenario 1 throughput: {F(bus / workQueue)}; topic 10k/10 cost with the key cache: {F(topicCached)}");
        Console.WriteLine(latency);
        Console.WriteLine(
            $"ratios: raw={F(raw / bus)} wolverine={F(wolverine / bus)} masstransit={F(massTransit / bus)} rebus={F(rebus / bus)} alloc={busBytes - rawBytes} topic10k={F(topicTrie)}");
        return 0;
    }

    /// <summary>Scenario 5's percentiles, sampled before the BenchmarkDotNet runs so nothing else is running.</summary>
    private static string MeasureRoundTrips()
    {
        string F(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
        var raw = RoundTripLatency.MeasureAsync(new RawPingPongHarness(), 2_000, 20_000).GetAwaiter().GetResult();
        var bus = RoundTripLatency.MeasureAsync(new BusRoundTripHarness(), 2_000, 20_000).GetAwaiter().GetResult();
        var massTransit = RoundTripLatency.MeasureAsync(new Peers.MassTransitRoundTripHarness(), 500, 2_000).GetAwaiter().GetResult();
        return $"scenario 5, round trip in microseconds p50/p99: raw={F(raw.P50)}/{F(raw.P99)} bus={F(bus.P50)}/{F(bus.P99)} masstransit={F(massTransit.P50)}/{F(massTransit.P99)}; bus p50 / raw p50 = {F(bus.P50 / raw.P50)}";
    }
}
