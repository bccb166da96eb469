using System.Diagnostics;
using System.Globalization;
using Bus.Benchmarks.Peers;

namespace Bus.Benchmarks;

/// <summary>
/// Scenario 1 with tracing and metrics listened to, and with pass-through filters, beside the same libraries without:
/// the raw channel; Bus plain, with filters, with telemetry, and with only its traces or only its metrics; Wolverine and
/// MassTransit with and without theirs. All are started in one process and measured in turns, as
/// <see cref="PairedRun"/> does, so each ratio is the median of ratios taken within a round. Time is per message;
/// bytes are everything the process allocated during the run, per message.
/// </summary>
/// <remarks>
/// "With telemetry" is what an application exporting both puts on the library, minus the exporter: every span sampled
/// with all data and recorded, every instrument of the library's meters enabled (see <see cref="TelemetryListeners"/>).
/// The listeners exist only during the telemetry cases' own turns (see <see cref="TelemetryHarness"/>), and the run
/// ends by checking that none is left. Running both paths in one process lets the JIT's profile see Bus's observed
/// branch taken too, which a process that never listens would not.
/// </remarks>
internal static class TelemetryRun
{
    private const int Raw = 0, Bus = 1, Filter = 2, Telemetry = 3, Wolverine = 6, WolverineTelemetry = 7, MassTransit = 8, MassTransitTelemetry = 9;

    public static async Task<int> RunAsync(int rounds)
    {
        var observed = new[]
        {
            new TelemetryHarness(BusHarness.OneConsumer(ConsumerLifetime.Singleton), BusDiagnostics.SourceName),
            new TelemetryHarness(BusHarness.OneConsumer(ConsumerLifetime.Singleton), BusDiagnostics.SourceName, metrics: false),
            new TelemetryHarness(BusHarness.OneConsumer(ConsumerLifetime.Singleton), BusDiagnostics.MeterName, traces: false),
            new TelemetryHarness(new WolverineHarness(), "Wolverine"),
            new TelemetryHarness(new MassTransitHarness(), "MassTransit"),
        };
        Case[] cases =
        [
            new("raw Channel", new RawChannelHarness(), Sizes.Messages),
            new("Bus", BusHarness.OneConsumer(ConsumerLifetime.Singleton), Sizes.Messages),
            new("Bus+filter", BusHarness.OneConsumerWithFilters(), Sizes.Messages),
            new("Bus+telemetry", observed[0], Sizes.Messages),
            new("Bus+traces only", observed[1], Sizes.Messages),
            new("Bus+metrics only", observed[2], Sizes.Messages),
            new("Wolverine", new WolverineHarness(), Sizes.PeerMessages),
            new("Wolverine+telemetry", observed[3], Sizes.PeerMessages),
            new("MassTransit", new MassTransitHarness(), Sizes.PeerMessages),
            new("MassTransit+telemetry", observed[4], Sizes.PeerMessages),
        ];
        foreach (var c in cases)
        {
            await c.Harness.StartAsync();
        }

        await JitWarmup.RunAsync(async () =>
        {
            foreach (var c in cases)
            {
                await c.Harness.PublishAndWaitAsync(Sizes.PeerMessages);
            }
        });

        for (var round = 0; round < rounds; round++)
        {
            for (var turn = 0; turn < cases.Length; turn++)
            {
                await cases[InterleavedRounds.CaseAt(round, turn, cases.Length)].MeasureAsync();
            }
        }

        foreach (var c in cases)
        {
            await c.Harness.DisposeAsync();
        }

        Print(cases, rounds);
        var leftOver = new[] { BusDiagnostics.SourceName, "Wolverine", "MassTransit" }.Where(TelemetryListeners.AnyListening).ToList();
        var silent = cases.Where(c => c.Harness is TelemetryHarness t && t.Spans + t.Measurements == 0).Select(c => c.Name).ToList();
        Console.WriteLine($"listeners left after the run: {(leftOver.Count == 0 ? "none" : string.Join(", ", leftOver))}; telemetry cases that saw nothing: {(silent.Count == 0 ? "none" : string.Join(", ", silent))}");
        return leftOver.Count == 0 && silent.Count == 0 ? 0 : 1;
    }

    private static void Print(Case[] cases, int rounds)
    {
        string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        string N(double value) => value.ToString("0", CultureInfo.InvariantCulture);
        double Ratio(int over, int under) => InterleavedRounds.Median(cases[over].Times.Zip(cases[under].Times, (o, u) => o / u));
        double Extra(List<double> of, List<double> over) => InterleavedRounds.Median(of.Zip(over, (a, b) => a - b));
        string Cost(int with, int without) =>
            $"x{F(Ratio(with, without))} time, +{N(Extra(cases[with].Times, cases[without].Times))} ns/msg, +{N(Extra(cases[with].Bytes, cases[without].Bytes))} B/msg";

        Console.WriteLine();
        Console.WriteLine($"telemetry run: scenario 1, medians of {rounds} interleaved rounds; B/msg = all the process allocated during the run, per message");
        Console.WriteLine($"| {"case",-21} | {"ns/msg",7} | {"B/msg",7} | {"time vs Bus",11} | telemetry seen");
        foreach (var (c, index) in cases.Select((c, i) => (c, i)))
        {
            var seen = c.Harness is TelemetryHarness t
                ? string.Create(CultureInfo.InvariantCulture, $"{(double)t.Spans / t.Messages:0.00} spans/msg, {(double)t.Measurements / t.Messages:0.00} measurements/msg; meters: {string.Join(", ", t.Meters)}")
                : string.Empty;
            Console.WriteLine($"| {c.Name,-21} | {N(InterleavedRounds.Median(c.Times)),7} | {N(InterleavedRounds.Median(c.Bytes)),7} | {F(Ratio(index, Bus)),11} | {seen}");
        }

        var busOverRaw = cases[Bus].Bytes.Zip(cases[Raw].Bytes, (b, r) => b - r).ToList();
        var wolverineOverTelemetry = cases[Wolverine].Times.Zip(cases[Telemetry].Times, (w, b) => w / b).ToList();
        Console.WriteLine();
        Console.WriteLine($"Bus allocation beyond the message (Bus - raw, B/msg; the claim is 0): median {F(InterleavedRounds.Median(busOverRaw))}, largest {F(busOverRaw.Max())}");
        Console.WriteLine($"Bus+filter vs Bus: {Cost(Filter, Bus)}");
        Console.WriteLine($"Bus+telemetry vs Bus: {Cost(Telemetry, Bus)}");
        Console.WriteLine($"  traces only: {Cost(Telemetry + 1, Bus)}; metrics only: {Cost(Telemetry + 2, Bus)}");
        Console.WriteLine($"Wolverine+telemetry vs Wolverine: {Cost(WolverineTelemetry, Wolverine)}");
        Console.WriteLine($"MassTransit+telemetry vs MassTransit: {Cost(MassTransitTelemetry, MassTransit)}");
        Console.WriteLine($"Bus+telemetry throughput / Wolverine's without telemetry (goal >= 3): median {F(InterleavedRounds.Median(wolverineOverTelemetry))}, rounds {F(wolverineOverTelemetry.Min())}-{F(wolverineOverTelemetry.Max())}");
        Console.WriteLine($"Bus+telemetry throughput / Wolverine+telemetry's: {F(Ratio(WolverineTelemetry, Telemetry))}; / MassTransit's without: {F(Ratio(MassTransit, Telemetry))}; Bus / raw: {F(Ratio(Raw, Bus))}");
    }

    /// <summary>One case: its harness, the messages per run, and what each measured run took.</summary>
    private sealed record Case(string Name, IThroughputHarness Harness, int Messages)
    {
        public List<double> Times { get; } = [];

        public List<double> Bytes { get; } = [];

        public async Task MeasureAsync()
        {
            var allocated = GC.GetTotalAllocatedBytes(precise: true);
            var start = Stopwatch.GetTimestamp();
            await Harness.PublishAndWaitAsync(Messages);
            Times.Add(Stopwatch.GetElapsedTime(start).TotalNanoseconds / Messages);
            Bytes.Add((GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)Messages);
        }
    }
}
