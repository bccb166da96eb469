namespace Bus.Benchmarks;

/// <summary>
/// A harness run with its library's tracing and metrics, or one of them, listened to (see
/// <see cref="TelemetryListeners"/>). The libraries' activity sources are static and listeners are process-wide, so
/// the listeners are attached for each run only and disposed at its end: between runs, and for every other case in the
/// same process, nothing listens. Spans and measurements are summed over the runs, to check that the library really
/// produced them.
/// </summary>
public sealed class TelemetryHarness(IThroughputHarness inner, string prefix, bool traces = true, bool metrics = true) : IThroughputHarness
{
    public long Spans { get; private set; }

    public long Measurements { get; private set; }

    /// <summary>The messages run while listening.</summary>
    public long Messages { get; private set; }

    /// <summary>The meters whose instruments were enabled.</summary>
    public SortedSet<string> Meters { get; } = new(StringComparer.Ordinal);

    public Task StartAsync() => inner.StartAsync();

    public async Task PublishAndWaitAsync(int count)
    {
        using var listeners = new TelemetryListeners(prefix, traces, metrics);
        await inner.PublishAndWaitAsync(count);
        Spans += listeners.Spans;
        Measurements += listeners.Measurements;
        Messages += count;
        Meters.UnionWith(listeners.Meters);
    }

    public ValueTask DisposeAsync() => inner.DisposeAsync();
}
