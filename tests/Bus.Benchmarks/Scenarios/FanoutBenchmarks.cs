using BenchmarkDotNet.Attributes;

namespace Bus.Benchmarks;

/// <summary>Scenario 2: every message to four queues, one consumer each. Cost per published message.</summary>
[MemoryDiagnoser]
public class FanoutBenchmarks : HarnessBenchmark
{
    private const int Queues = 4;

    [GlobalSetup(Target = nameof(RawChannels))]
    public Task SetupRaw() => Start(new RawChannelHarness(channels: Queues));

    [GlobalSetup(Target = nameof(Bus))]
    public Task SetupBus() => Start(BusHarness.Fanout(Queues));

    [Benchmark(Baseline = true, OperationsPerInvoke = Sizes.Messages)]
    public Task RawChannels() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.Messages)]
    public Task Bus() => Harness.PublishAndWaitAsync(Sizes.Messages);
}
