using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Bus.Benchmarks.Peers;

namespace Bus.Benchmarks;

/// <summary>
/// Bus on RabbitMQ beside the raw RabbitMQ.Client 7.2.2 and MassTransit.RabbitMQ 8.5.12, on the same broker, in one
/// process, in interleaved rounds (the order reversed every other round, as <see cref="PairedRun"/> does). Every
/// contender sends the same message (<see cref="OrderSubmitted"/>, about 60 bytes of JSON), persistent, with publisher
/// confirms, to one durable classic queue read by one consumer with the same prefetch; every measured run gets a
/// fresh vhost (<see cref="BenchBroker"/>) and a freshly started contender, so nothing is left over from another run.
/// </summary>
/// <remarks>
/// <para>
/// Throughput: <see cref="Messages"/> publishes with at most <see cref="Outstanding"/> awaiting their confirm
/// (<see cref="BrokerLoad"/>) while the consumer runs; the time is from the first publish to the consumer's last call,
/// in messages per second. Bytes: <see cref="GC.GetTotalAllocatedBytes(bool)"/> (precise) over that same span divided
/// by the messages: everything the process allocated on every thread, the client library's reader and writer loops
/// included. Round trip: <see cref="RoundTrips"/> requests one after another (after <see cref="RoundTripWarmUp"/>
/// unmeasured ones on the same connection), p50 and p99 of each, and the bytes per round trip.
/// </para>
/// <para>
/// This is a custom timed loop rather than BenchmarkDotNet: one measured operation is seconds of traffic through a
/// broker process that shares the machine's 2 vCPUs, and what is compared is the three contenders within a round.
/// Ratios are taken within each round and their median over rounds is reported, with the range; the JIT is warmed up
/// for every contender first (<see cref="JitWarmup"/>). Runtime default settings, as users run them.
/// </para>
/// </remarks>
internal static class RabbitMqRun
{
    public const int Messages = 20_000;
    public const int Outstanding = 256;
    public const ushort Prefetch = 100;
    public const int RoundTrips = 2_000;
    public const int RoundTripWarmUp = 200;

    /// <summary>The raw client's publishing channels: as many as the Bus transport's default (<c>RabbitMqOptions.PublishChannels</c>).</summary>
    public const int RawPublishChannels = 2;

    private const int WarmUpMessages = 2_000;
    private const int WarmUpRoundTrips = 500;
    private const int Raw = 0, Bus = 1, MassTransit = 2;

    /// <summary>How long any step may take: a measured run takes seconds.</summary>
    private static readonly TimeSpan StepLimit = TimeSpan.FromSeconds(60);

    /// <summary>How long a measured run waits for other processes to leave the machine quiet.</summary>
    private static readonly TimeSpan QuietLimit = TimeSpan.FromSeconds(60);

    public static async Task<int> RunAsync(int rounds)
    {
        var (version, problem) = await BenchBroker.ProbeAsync();
        if (version is null)
        {
            Console.Error.WriteLine($"--rabbitmq needs a broker: {problem}. Start one (docs/rabbitmq.md, 'The broker in tests and CI'), or set BUS_RABBITMQ_URI and BUS_RABBITMQ_MANAGEMENT_URI.");
            return 2;
        }

        var leftovers = await BenchBroker.DeleteLeftoversAsync();
        var contenders = Contenders();

        var body = JsonSerializer.SerializeToUtf8Bytes(OrderSubmitted.Create(12345)).Length;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"// RabbitMQ {version} at {BenchBroker.Display(BenchBroker.AmqpUri)}; {Messages:N0} persistent messages per run ({body} B of JSON for the raw client), at most {Outstanding} publishes awaiting their confirm, prefetch {Prefetch}, one consumer; {RoundTrips:N0} sequential round trips; {rounds} rounds; {Environment.ProcessorCount} CPUs; server GC {System.Runtime.GCSettings.IsServerGC}{(leftovers > 0 ? $"; deleted {leftovers} vhosts left by an earlier run" : string.Empty)}"));

        await WarnAboutOtherClientsAsync("before the run");
        foreach (var c in contenders)
        {
            await WithRetriesAsync(() => WarmUpAsync(c), c.Name);
        }

        for (var round = 0; round < rounds; round++)
        {
            for (var turn = 0; turn < contenders.Length; turn++)
            {
                var c = contenders[InterleavedRounds.CaseAt(round, turn, contenders.Length)];
                await WithRetriesAsync(() => MeasureThroughputAsync(c, round), c.Name);
            }

            for (var turn = 0; turn < contenders.Length; turn++)
            {
                var c = contenders[InterleavedRounds.CaseAt(round, turn, contenders.Length)];
                await WithRetriesAsync(() => MeasureRoundTripsAsync(c, round), c.Name);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"// round {round + 1}: {string.Join(" | ", contenders.Select(c => $"{c.Name} {c.Rates[round]:N0} msg/s {c.Bytes[round]:N0} B/msg cpu {c.Cpu[round]:N1}+{c.BrokerCpu[round]:N1} µs/msg (others {c.OtherCpu[round]:P0}), rt p50 {c.P50[round]:N0} µs p99 {c.P99[round]:N0} µs (others {c.RoundTripOtherCpu[round]:P0})"))}"));
        }

        Print(contenders, rounds);
        await WarnAboutOtherClientsAsync("after the run");
        return 0;
    }

    /// <summary>
    /// <c>--rabbitmq-allocations</c>: one throughput run per contender, after the warm-up, with the runtime's
    /// allocation ticks listened to, and the types that made up each one's bytes per message.
    /// </summary>
    public static async Task<int> AllocationsAsync(int top)
    {
        var (version, problem) = await BenchBroker.ProbeAsync();
        if (version is null)
        {
            Console.Error.WriteLine($"--rabbitmq-allocations needs a broker: {problem}.");
            return 2;
        }

        await BenchBroker.DeleteLeftoversAsync();
        using var sampler = new AllocationSampler();
        foreach (var c in Contenders())
        {
            await WithRetriesAsync(() => WarmUpAsync(c), c.Name);
            var vhost = await BenchBroker.CreateVhostAsync($"{c.Slug}-alloc");
            try
            {
                var harness = c.Throughput(vhost);
                try
                {
                    await harness.StartAsync();
                    await Task.Delay(TimeSpan.FromMilliseconds(250));
                    sampler.Start();
                    var allocated = GC.GetTotalAllocatedBytes(precise: true);
                    var start = Stopwatch.GetTimestamp();
                    await Bounded(harness.PublishAndWaitAsync(Messages), c.Name, "publishing and consuming");
                    var elapsed = Stopwatch.GetElapsedTime(start);
                    var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                    var types = sampler.Stop(bytes);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{c.Name}: {Messages / elapsed.TotalSeconds:N0} msg/s, {bytes / (double)Messages:N0} B/msg; by type (estimated from allocation ticks, B/msg):"));
                    foreach (var (type, typeBytes) in types.Take(top))
                    {
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {typeBytes / Messages,8:N0}  {type}"));
                    }
                }
                finally
                {
                    await Bounded(harness.DisposeAsync().AsTask(), c.Name, "stopping");
                }
            }
            finally
            {
                await BenchBroker.DeleteVhostAsync(vhost);
            }
        }

        return 0;
    }

    private static Contender[] Contenders() =>
    [
        new("RabbitMQ.Client", "raw",
            uri => new RabbitMqClientHarness(uri, Outstanding, Prefetch, RawPublishChannels),
            uri => new RabbitMqClientRoundTripHarness(uri, Prefetch)),
        new("Bus", "bus",
            uri => new BusRabbitMqHarness(uri, Outstanding, Prefetch),
            uri => new BusRabbitMqRoundTripHarness(uri, Prefetch)),
        new("MassTransit", "mt",
            uri => new MassTransitRabbitMqHarness(uri, Outstanding, Prefetch),
            uri => new MassTransitRabbitMqRoundTripHarness(uri, Prefetch)),
    ];

    /// <summary>The management API lists connections with a delay of a few seconds: a hint, not a guarantee.</summary>
    private static async Task WarnAboutOtherClientsAsync(string when)
    {
        if (await BenchBroker.CountOtherConnectionsAsync() is > 0 and var others)
        {
            Console.WriteLine($"// WARNING {when}: {others} other connections on the broker; other clients disturb the figures");
        }
    }

    private static async Task WarmUpAsync(Contender c)
    {
        var vhost = await BenchBroker.CreateVhostAsync($"{c.Slug}-warm");
        try
        {
            var harness = c.Throughput(vhost);
            try
            {
                await harness.StartAsync();
                Console.Write($"// {c.Name}, throughput: ");
                await JitWarmup.RunAsync(() => Bounded(harness.PublishAndWaitAsync(WarmUpMessages), c.Name, "a warm-up run"));
            }
            finally
            {
                await Bounded(harness.DisposeAsync().AsTask(), c.Name, "stopping");
            }

            var roundTrip = c.RoundTrip(vhost);
            try
            {
                await roundTrip.StartAsync();
                await Bounded(RoundTripsAsync(roundTrip, WarmUpRoundTrips, null), c.Name, "the round trips' warm-up");
            }
            finally
            {
                await Bounded(roundTrip.DisposeAsync().AsTask(), c.Name, "stopping");
            }
        }
        finally
        {
            await BenchBroker.DeleteVhostAsync(vhost);
        }
    }

    private static async Task MeasureThroughputAsync(Contender c, int round)
    {
        var vhost = await BenchBroker.CreateVhostAsync($"{c.Slug}-r{round + 1}");
        try
        {
            var harness = c.Throughput(vhost);
            try
            {
                await harness.StartAsync();

                // The consumer's registration and the connections' first exchanges settle before the clock starts.
                await Task.Delay(TimeSpan.FromMilliseconds(250));
                await WaitForQuietAsync();
                var (cpu, brokerCpu, machineCpu) = (CpuClock.Process(), CpuClock.Broker(), CpuClock.Machine());
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                var start = Stopwatch.GetTimestamp();
                await Bounded(harness.PublishAndWaitAsync(Messages), c.Name, "publishing and consuming");
                var elapsed = Stopwatch.GetElapsedTime(start);
                var bytes = GC.GetTotalAllocatedBytes(precise: true) - allocated;
                (cpu, brokerCpu, machineCpu) = (CpuClock.Process() - cpu, CpuClock.Broker() - brokerCpu, CpuClock.Machine() - machineCpu);

                // Exactly once here: a consumer called more often than published (a redelivery) would show below zero.
                await Task.Delay(TimeSpan.FromMilliseconds(100));
                if (harness.Countdown.Remaining != 0)
                {
                    throw new InvalidOperationException($"{c.Name}: the consumer ran {Messages - harness.Countdown.Remaining} times for {Messages} messages.");
                }

                c.Rates.Add(Messages / elapsed.TotalSeconds);
                c.Bytes.Add(bytes / (double)Messages);
                c.Cpu.Add(cpu.TotalMicroseconds / Messages);
                c.BrokerCpu.Add(brokerCpu.TotalMicroseconds / Messages);
                c.OtherCpu.Add(Math.Max(0, (machineCpu - cpu - brokerCpu) / (elapsed * Environment.ProcessorCount)));
            }
            finally
            {
                await Bounded(harness.DisposeAsync().AsTask(), c.Name, "stopping");
            }
        }
        finally
        {
            await BenchBroker.DeleteVhostAsync(vhost);
        }
    }

    private static async Task MeasureRoundTripsAsync(Contender c, int round)
    {
        var vhost = await BenchBroker.CreateVhostAsync($"{c.Slug}-rr{round + 1}");
        try
        {
            var harness = c.RoundTrip(vhost);
            try
            {
                await harness.StartAsync();
                await Bounded(RoundTripsAsync(harness, RoundTripWarmUp, null), c.Name, "the round trips' warm-up");
                await WaitForQuietAsync();
                var microseconds = new double[RoundTrips];
                var (cpu, brokerCpu, machineCpu) = (CpuClock.Process(), CpuClock.Broker(), CpuClock.Machine());
                var clock = Stopwatch.GetTimestamp();
                var allocated = GC.GetTotalAllocatedBytes(precise: true);
                await Bounded(RoundTripsAsync(harness, RoundTrips, microseconds), c.Name, "the round trips");
                c.RoundTripBytes.Add((GC.GetTotalAllocatedBytes(precise: true) - allocated) / (double)RoundTrips);
                var elapsed = Stopwatch.GetElapsedTime(clock);
                (cpu, brokerCpu, machineCpu) = (CpuClock.Process() - cpu, CpuClock.Broker() - brokerCpu, CpuClock.Machine() - machineCpu);
                c.RoundTripOtherCpu.Add(Math.Max(0, (machineCpu - cpu - brokerCpu) / (elapsed * Environment.ProcessorCount)));
                Array.Sort(microseconds);
                c.P50.Add(microseconds[RoundTrips / 2]);
                c.P99.Add(microseconds[(int)(RoundTrips * 0.99)]);
            }
            finally
            {
                await Bounded(harness.DisposeAsync().AsTask(), c.Name, "stopping");
            }
        }
        finally
        {
            await BenchBroker.DeleteVhostAsync(vhost);
        }
    }

    /// <summary>
    /// A measured run, tried again (at most twice) when it fails: on a broker shared with other work (another process
    /// restarting it, deleting vhosts) a run can break for reasons that are not the contender's. A run records its
    /// figures only when it completes, so a failed attempt leaves nothing behind; every failure is printed.
    /// </summary>
    private static async Task WithRetriesAsync(Func<Task> run, string contender)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await run();
                return;
            }
            catch (Exception exception) when (attempt < 3)
            {
                Console.WriteLine($"// {contender}: a run failed ({exception.GetType().Name}: {exception.Message.Split('\n')[0]}); trying again once the broker answers");
                await WaitForBrokerAsync();
            }
        }
    }

    /// <summary>Waits (at most a minute) until the broker takes a new vhost again.</summary>
    private static async Task WaitForBrokerAsync()
    {
        var start = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < TimeSpan.FromMinutes(1))
        {
            await Task.Delay(TimeSpan.FromSeconds(2));
            try
            {
                await BenchBroker.DeleteVhostAsync(await BenchBroker.CreateVhostAsync("probe"));
                return;
            }
            catch (HttpRequestException)
            {
                // Not back yet.
            }
        }
    }

    /// <summary>
    /// Waits, at most <see cref="QuietLimit"/>, until other processes (not this one, not the broker) use less than 5% of
    /// the machine over half a second, so a measured run does not start while other work shares the 2 vCPUs; prints how
    /// long it waited when it had to. The per-run "others" figures show what happened during the run itself.
    /// </summary>
    private static async Task WaitForQuietAsync()
    {
        var start = Stopwatch.GetTimestamp();
        var others = 0.0;
        while (Stopwatch.GetElapsedTime(start) < QuietLimit)
        {
            var (cpu, brokerCpu, machineCpu) = (CpuClock.Process(), CpuClock.Broker(), CpuClock.Machine());
            var window = Stopwatch.GetTimestamp();
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var busy = CpuClock.Machine() - machineCpu - (CpuClock.Process() - cpu) - (CpuClock.Broker() - brokerCpu);
            others = busy / (Stopwatch.GetElapsedTime(window) * Environment.ProcessorCount);
            if (others < 0.05)
            {
                if (Stopwatch.GetElapsedTime(start) > TimeSpan.FromSeconds(1))
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// waited {Stopwatch.GetElapsedTime(start).TotalSeconds:0} s for other processes to leave the machine quiet"));
                }

                return;
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"// other processes still used {others:P0} of the machine after {QuietLimit.TotalSeconds:0} s; measuring anyway"));
    }

    /// <summary>Round trips one after another; each one's time in <paramref name="microseconds"/> when given.</summary>
    private static async Task RoundTripsAsync(IRoundTripHarness harness, int count, double[]? microseconds)
    {
        for (var i = 0; i < count; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await harness.RoundTripAsync(i);
            if (microseconds is not null)
            {
                microseconds[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }
        }
    }

    /// <summary>
    /// A step of a measured run, bounded: a contender that hangs (a publish whose confirm never comes, say, after the
    /// broker restarted under it) fails the run with what hung, rather than leaving it waiting forever.
    /// </summary>
    private static async Task Bounded(Task step, string contender, string what)
    {
        try
        {
            await step.WaitAsync(StepLimit);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"{contender}: {what} did not finish within {StepLimit.TotalSeconds} s (did the broker restart or block publishers?).", exception);
        }
    }

    private static void Print(Contender[] contenders, int rounds)
    {
        static string N(double value) => value.ToString("N0", CultureInfo.InvariantCulture);
        static string D(double value) => value.ToString("0.0", CultureInfo.InvariantCulture);
        static string F(double value) => value.ToString("0.00", CultureInfo.InvariantCulture);
        static string M(List<double> values, Func<double, string> format) => $"{format(InterleavedRounds.Median(values))} ({format(values.Min())}–{format(values.Max())})";
        static List<double> Ratios(List<double> over, List<double> under) => [.. over.Zip(under, (o, u) => o / u)];
        static string Verdict(List<double> ratios, double goal) => InterleavedRounds.Median(ratios) >= goal ? "met" : "missed";

        Console.WriteLine();
        Console.WriteLine($"RabbitMQ run: medians of {rounds} interleaved rounds (range in brackets); B = all the process allocated, every thread; CPU = this process's and the broker's per message");
        Console.WriteLine($"| {"contender",-15} | {"msg/s",22} | {"B/msg",22} | {"CPU µs/msg: client",20} | {"broker",18} | {"round trip p50 µs",20} | {"round trip p99 µs",22} | {"B/round trip",22} |");
        Console.WriteLine($"| {new string('-', 15)} | {new string('-', 21)}: | {new string('-', 21)}: | {new string('-', 19)}: | {new string('-', 17)}: | {new string('-', 19)}: | {new string('-', 21)}: | {new string('-', 21)}: |");
        foreach (var c in contenders)
        {
            Console.WriteLine(
                $"| {c.Name,-15} | {M(c.Rates, N),22} | {M(c.Bytes, N),22} | {M(c.Cpu, D),20} | {(CpuClock.SeesBroker ? M(c.BrokerCpu, D) : "n/a"),18} | {M(c.P50, N),20} | {M(c.P99, N),22} | {M(c.RoundTripBytes, N),22} |");
        }

        var busOverRaw = Ratios(contenders[Bus].Rates, contenders[Raw].Rates);
        var busOverMassTransit = Ratios(contenders[Bus].Rates, contenders[MassTransit].Rates);
        var p50OverRaw = Ratios(contenders[Bus].P50, contenders[Raw].P50);
        var massTransitP50OverBus = Ratios(contenders[MassTransit].P50, contenders[Bus].P50);
        var bytesOverRaw = contenders[Bus].Bytes.Zip(contenders[Raw].Bytes, (b, r) => b - r).ToList();
        Console.WriteLine();
        Console.WriteLine($"Bus / RabbitMQ.Client throughput (goal >= 0.80): median {F(InterleavedRounds.Median(busOverRaw))}, rounds {string.Join(' ', busOverRaw.Select(F))}: {Verdict(busOverRaw, 0.8)}");
        Console.WriteLine($"Bus / MassTransit throughput (goal >= 3): median {F(InterleavedRounds.Median(busOverMassTransit))}, rounds {string.Join(' ', busOverMassTransit.Select(F))}: {Verdict(busOverMassTransit, 3)}");
        Console.WriteLine($"Bus allocation beyond the raw client: median {N(InterleavedRounds.Median(bytesOverRaw))} B/msg; MassTransit / Bus bytes: {F(InterleavedRounds.Median(contenders[MassTransit].Bytes) / InterleavedRounds.Median(contenders[Bus].Bytes))}");
        var others = contenders.SelectMany(c => c.OtherCpu).ToList();
        var roundTripOthers = contenders.SelectMany(c => c.RoundTripOtherCpu).ToList();
        Console.WriteLine($"Other processes' CPU (not this process, not the broker), share of the machine: throughput runs at most {others.Max():P0} ({others.Count(o => o > 0.05)} of {others.Count} runs above 5%), round-trip samples at most {roundTripOthers.Max():P0} ({roundTripOthers.Count(o => o > 0.05)} above 5%)");
        Console.WriteLine($"Round trip p50: Bus / RabbitMQ.Client {F(InterleavedRounds.Median(p50OverRaw))} (rounds {string.Join(' ', p50OverRaw.Select(F))}); MassTransit / Bus {F(InterleavedRounds.Median(massTransitP50OverBus))}");
    }

    /// <summary>One contender: how to make its harnesses for a vhost, and what each round measured.</summary>
    private sealed record Contender(string Name, string Slug, Func<Uri, IBrokerThroughputHarness> Throughput, Func<Uri, IRoundTripHarness> RoundTrip)
    {
        public List<double> Rates { get; } = [];

        public List<double> Bytes { get; } = [];

        public List<double> Cpu { get; } = [];

        public List<double> BrokerCpu { get; } = [];

        /// <summary>What other processes used of the machine during each run (0-1): above a few percent, the round was disturbed.</summary>
        public List<double> OtherCpu { get; } = [];

        /// <summary>What other processes used of the machine during each round-trip sample (0-1).</summary>
        public List<double> RoundTripOtherCpu { get; } = [];

        public List<double> P50 { get; } = [];

        public List<double> P99 { get; } = [];

        public List<double> RoundTripBytes { get; } = [];
    }
}
