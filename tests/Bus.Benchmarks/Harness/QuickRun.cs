using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace Bus.Benchmarks;

/// <summary>
/// Scenarios 1-4 and 6 with few iterations, then one line of ratios from that same run; scenario 5's percentiles are
/// sampled directly (its BenchmarkDotNet cases run with <c>--filter '*RequestReply*'</c>, to keep this under three
/// minutes). Medians, not means: on a noisy 2-core machine a single descheduled iteration would otherwise move the
/// result. Every library runs with the runtime's default settings, as users run it.
/// </summary>
/// <remarks>
/// The cases behind the targets, Bus and the raw channel in scenario 1, Bus in scenario 3, and topic routing with 10
/// and 10,000 bindings, run in this process in <see cref="InterleavedRounds"/>, and each target's ratio is the median
/// of the ratios within rounds. The peers, the fanout and the scoped consumer each run once, in a process of their own
/// (BenchmarkDotNet's default): their ratios to Bus are many times wider than the noise.
/// </remarks>
internal static class QuickRun
{
    private const int HeadlineRounds = 5;
    private const int TopicRounds = 3;

    private static readonly CaseSelector[] Headline =
    [
        new(typeof(OneQueueBenchmarks), "RawChannel"),
        new(typeof(OneQueueBenchmarks), "Bus"),
        new(typeof(WorkQueueBenchmarks), "Bus"),
    ];

    private static readonly CaseSelector[] Topic = [TopicCase(10), TopicCase(10_000)];

    /// <summary>
    /// Scenario 1 (Bus and the raw channel) and scenario 3 (Bus) only, in <paramref name="rounds"/> interleaved rounds;
    /// one line of ratios per round, for judging a change to the hot path in a minute.
    /// </summary>
    public static int RunScenarioOne(int rounds)
    {
        var headline = new InterleavedRounds(CreateConfig(inProcess: true), rounds, Headline);
        var reports = headline.Read(BenchmarkRunner.Run([.. headline.Infos]), 0);
        Console.WriteLine();
        foreach (var round in reports)
        {
            var (raw, bus, work) = (InterleavedRounds.Time(round[0]), InterleavedRounds.Time(round[1]), InterleavedRounds.Time(round[2]));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round: bus={bus:0.0} raw={raw:0.0} work={work:0.0} ns/msg; bus/raw throughput={raw / bus:0.00}; scenario 3 / scenario 1 throughput={bus / work:0.00}"));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"median of {rounds} rounds: bus/raw throughput={InterleavedRounds.MedianOfRounds(reports, RawOverBus):0.00}; scenario 3 / scenario 1 throughput={InterleavedRounds.MedianOfRounds(reports, BusOverWork):0.00}"));
        return 0;
    }

    public static int Run()
    {
        var latency = MeasureRoundTrips();
        var inProcess = CreateConfig(inProcess: true);
        var ownProcess = CreateConfig(inProcess: false);
        var headline = new InterleavedRounds(inProcess, HeadlineRounds, Headline);
        var topic = new InterleavedRounds(inProcess, TopicRounds, Topic);
        BenchmarkRunInfo[] once =
        [
            CaseSelector.RunOf(inProcess, TopicCase(1_000)),
            CaseSelector.RunOf(ownProcess,
                new CaseSelector(typeof(OneQueueBenchmarks), "Wolverine"),
                new CaseSelector(typeof(OneQueueBenchmarks), "MassTransit"),
                new CaseSelector(typeof(OneQueueBenchmarks), "Rebus")),
            BenchmarkConverter.TypeToBenchmarks(typeof(FanoutBenchmarks), ownProcess),
            CaseSelector.RunOf(ownProcess, new CaseSelector(typeof(WorkQueueBenchmarks), "RawChannel")),
            BenchmarkConverter.TypeToBenchmarks(typeof(ScopedConsumerBenchmarks), ownProcess),
        ];
        var summaries = BenchmarkRunner.Run([.. headline.Infos, .. topic.Infos, .. once]);
        var headlineReports = headline.Read(summaries, 0);
        var topicReports = topic.Read(summaries, headline.Infos.Count);
        var reports = summaries.Skip(headline.Infos.Count + topic.Infos.Count).SelectMany(s => s.Reports).ToList();

        double Median(string method) => InterleavedRounds.Time(reports.Single(r =>
            r.BenchmarkCase.Descriptor.Type == typeof(OneQueueBenchmarks) && r.BenchmarkCase.Descriptor.WorkloadMethod.Name == method));

        var bus = InterleavedRounds.MedianTime(headlineReports, 1);
        var wolverine = Median("Wolverine");
        var massTransit = Median("MassTransit");
        var rebus = Median("Rebus");

        // Bytes per message from the first round: allocation does not depend on timing.
        var busBytes = Allocated(headlineReports[0][1]);
        var rawBytes = Allocated(headlineReports[0][0]);

        string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        string Times(int index) => string.Join(' ', headlineReports.Select(r => InterleavedRounds.Time(r[index]).ToString("0", CultureInfo.InvariantCulture)));
        var raw = InterleavedRounds.MedianOfRounds(headlineReports, RawOverBus);
        var workQueue = InterleavedRounds.MedianOfRounds(headlineReports, BusOverWork);
        var topic10k = InterleavedRounds.MedianOfRounds(topicReports, r => InterleavedRounds.Time(r[1]) / InterleavedRounds.Time(r[0]));
        Console.WriteLine();
        Console.WriteLine($"scenarios 1 and 3, ns per message in each of {HeadlineRounds} interleaved rounds: bus={Times(1)} raw={Times(0)} work queue={Times(2)}");
        Console.WriteLine($"scenario 1, ns per message (median): bus={F(bus)} raw={F(InterleavedRounds.MedianTime(headlineReports, 0))} wolverine={F(wolverine)} masstransit={F(massTransit)} rebus={F(rebus)}");
        Console.WriteLine($"scenario 1, bytes allocated per message: bus={busBytes} raw={rawBytes} (the message itself); bus beyond the message={busBytes - rawBytes}");
        Console.WriteLine($"scenario 3 / scenario 1 throughput (median of the rounds' ratios): {F(workQueue)}");
        Console.WriteLine(latency);
        Console.WriteLine(
            $"ratios: raw={F(raw)} wolverine={F(wolverine / bus)} masstransit={F(massTransit / bus)} rebus={F(rebus / bus)} alloc={busBytes - rawBytes} topic10k={F(topic10k)}");
        return 0;
    }

    private static double RawOverBus(BenchmarkReport[] round) => InterleavedRounds.Time(round[0]) / InterleavedRounds.Time(round[1]);

    private static double BusOverWork(BenchmarkReport[] round) => InterleavedRounds.Time(round[1]) / InterleavedRounds.Time(round[2]);

    private static long Allocated(BenchmarkReport report) => report.GcStats.GetBytesAllocatedPerOperation(report.BenchmarkCase) ?? 0;

    private static CaseSelector TopicCase(int bindings) => new(
        typeof(TopicBindingsBenchmarks),
        nameof(TopicBindingsBenchmarks.Publish),
        c => (int)c.Parameters["Bindings"] == bindings && !(bool)c.Parameters["Cached"]);

    /// <summary>
    /// The quick job. In this process (<paramref name="inProcess"/>) for the interleaved rounds; otherwise each case in
    /// a process of its own.
    /// </summary>
    private static IConfig CreateConfig(bool inProcess)
    {
        var job = Job.Default
            .WithStrategy(RunStrategy.Monitoring)
            .WithLaunchCount(1)
            .WithWarmupCount(2)
            .WithIterationCount(inProcess ? 11 : 15)
            .WithInvocationCount(1)
            .WithUnrollFactor(1);
        job = inProcess
            ? job.WithToolchain(InProcessEmitToolchain.Instance).WithId("QuickInProcess")
            : job.WithId("Quick");
        return DefaultConfig.Instance
            .AddJob(job)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .WithOptions(ConfigOptions.DisableLogFile);
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
