using BenchmarkDotNet.Attributes;

namespace Bus.Benchmarks;

/// <summary>
/// Scenario 6: a scoped consumer (a DI scope per message) beside the singleton one, and beside the bare cost of
/// creating a scope and resolving the consumer from it, the floor a scoped consumer cannot go below.
/// </summary>
[MemoryDiagnoser]
public class ScopedConsumerBenchmarks : HarnessBenchmark
{
    [GlobalSetup(Target = nameof(Singleton))]
    public Task SetupSingleton() => Start(BusHarness.OneConsumer(ConsumerLifetime.Singleton));

    [GlobalSetup(Target = nameof(Scoped))]
    public Task SetupScoped() => Start(BusHarness.OneConsumer(ConsumerLifetime.Scoped));

    [GlobalSetup(Target = nameof(DependencyInjectionScopeOnly))]
    public Task SetupScopeOnly() => Start(new ScopeOnlyHarness());

    [Benchmark(Baseline = true, OperationsPerInvoke = Sizes.Messages)]
    public Task Singleton() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.Messages)]
    public Task Scoped() => Harness.PublishAndWaitAsync(Sizes.Messages);

    [Benchmark(OperationsPerInvoke = Sizes.Messages)]
    public Task DependencyInjectionScopeOnly() => Harness.PublishAndWaitAsync(Sizes.Messages);
}
