using BenchmarkDotNet.Attributes;

namespace Bus.Benchmarks;

/// <summary>Scenario 3: one queue, four competing consumers.</summary>
[MemoryDiagnoser]
public class WorkQueueBenchmarks : HarnessBenchmark
{
    private const int Consumers = 4;

    [GlobalSetup(Target = nameof(RawChannel))]
    public Task SetupRaw() => Start(new RawChannelHarness(readersPerChannel: Consumers));

    [GlobalSetup(Target = nameof(Bus))]
    public Task SetupBus() => Start(BusHarness.WorkQueue(Consumers));

    [Benchmark(Baseline = true, OperationsPerInvoke = Sizes.Messages)]
    public Task RawChannel() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.Messages)]
    public Task Bus() => Harness.PublishAndWaitAsync(Sizes.Messages);
}
