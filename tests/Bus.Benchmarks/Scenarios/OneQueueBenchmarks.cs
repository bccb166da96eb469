using BenchmarkDotNet.Attributes;
using Bus.Benchmarks.Peers;

namespace Bus.Benchmarks;

/// <summary>Scenario 1, the headline: publish, one queue, one consumer; Bus beside the raw channel and the peers.</summary>
[MemoryDiagnoser]
public class OneQueueBenchmarks : HarnessBenchmark
{
    [GlobalSetup(Target = nameof(RawChannel))]
    public Task SetupRaw() => Start(new RawChannelHarness());

    [GlobalSetup(Target = nameof(Bus))]
    public Task SetupBus() => Start(BusHarness.OneConsumer(ConsumerLifetime.Singleton));

    [GlobalSetup(Target = nameof(Wolverine))]
    public Task SetupWolverine() => Start(new WolverineHarness());

    [GlobalSetup(Target = nameof(MassTransit))]
    public Task SetupMassTransit() => Start(new MassTransitHarness());

    [GlobalSetup(Target = nameof(Rebus))]
    public Task SetupRebus() => Start(new RebusHarness());

    [Benchmark(Baseline = true, OperationsPerInvoke = Sizes.Messages)]
    public Task RawChannel() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.Messages)]
    public Task Bus() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.PeerMessages)]
    public Task Wolverine() => Harness.PublishAndWaitAsync(Sizes.PeerMessages);

    [Benchmark(OperationsPerInvoke = Sizes.PeerMessages)]
    public Task MassTransit() => Harness.PublishAndWaitAsync(Sizes.PeerMessages);

    [Benchmark(OperationsPerInvoke = Sizes.PeerMessages)]
    public Task Rebus() => Harness.PublishAndWaitAsync(Sizes.PeerMessages);
}
