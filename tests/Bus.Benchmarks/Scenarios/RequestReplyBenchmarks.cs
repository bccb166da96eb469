using BenchmarkDotNet.Attributes;
using Bus.Benchmarks.Peers;

namespace Bus.Benchmarks;

/// <summary>
/// Scenario 5: request/reply round trips, one after another; time per round trip. Percentiles of single round trips
/// come from <see cref="RoundTripLatency"/>, which the quick run prints.
/// </summary>
[MemoryDiagnoser]
public class RequestReplyBenchmarks
{
    private const int RoundTrips = 20_000;
    private const int PeerRoundTrips = 2_000;
    private IRoundTripHarness _harness = null!;

    [GlobalSetup(Target = nameof(RawPingPong))]
    public Task SetupRaw() => Start(new RawPingPongHarness());

    [GlobalSetup(Target = nameof(Bus))]
    public Task SetupBus() => Start(new BusRoundTripHarness());

    [GlobalSetup(Target = nameof(MassTransit))]
    public Task SetupMassTransit() => Start(new MassTransitRoundTripHarness());

    [GlobalCleanup]
    public ValueTask Cleanup() => _harness.DisposeAsync();

    [Benchmark(Baseline = true, OperationsPerInvoke = RoundTrips)]
    public Task RawPingPong() => Run(RoundTrips);

    [Benchmark(OperationsPerInvoke = RoundTrips)]
    public Task Bus() => Run(RoundTrips);

    [Benchmark(OperationsPerInvoke = PeerRoundTrips)]
    public Task MassTransit() => Run(PeerRoundTrips);

    private async Task Run(int count)
    {
        for (var i = 0; i < count; i++)
        {
            await _harness.RoundTripAsync(i);
        }
    }

    private async Task Start(IRoundTripHarness harness)
    {
        _harness = harness;
        await harness.StartAsync();
        for (var i = 0; i < PeerRoundTrips; i++)
        {
            await harness.RoundTripAsync(i);
        }
    }
}
