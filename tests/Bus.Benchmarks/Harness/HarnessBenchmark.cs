using BenchmarkDotNet.Attributes;

namespace Bus.Benchmarks;

/// <summary>A benchmark class whose cases each start one harness, warm it up, and run it.</summary>
public abstract class HarnessBenchmark
{
    protected IThroughputHarness Harness { get; private set; } = null!;

    [GlobalCleanup]
    public ValueTask Cleanup() => Harness.DisposeAsync();

    protected async Task Start(IThroughputHarness harness)
    {
        Harness = harness;
        await harness.StartAsync();

        // Rounds before measuring: the JIT finishes tiering up, channel buffers and pools reach their working size.
        await JitWarmup.RunAsync(() => harness.PublishAndWaitAsync(Sizes.PeerMessages));
    }
}
