using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Bus.Benchmarks;

/// <summary>
/// What an application exporting traces and metrics puts on a library, minus the exporter: an
/// <see cref="ActivityListener"/> that samples every span of the sources whose name starts with a prefix (all data,
/// recorded) and counts them as they stop, and a <see cref="MeterListener"/> that enables every instrument of the
/// meters whose name starts with it and counts each measurement. Either can be left out, to tell their costs apart.
/// Both are process-wide, as every listener is, so <see cref="Dispose"/> must run before anything else is measured.
/// </summary>
public sealed class TelemetryListeners : IDisposable
{
    private readonly string _prefix;
    private readonly Lock _lock = new();
    private readonly ActivityListener? _sources;
    private readonly MeterListener? _meters;
    private readonly StripedCounter _spans = new();
    private readonly StripedCounter _measurements = new();

    public TelemetryListeners(string prefix, bool traces = true, bool metrics = true)
    {
        _prefix = prefix;
        _sources = traces ? ListenToSources() : null;
        _meters = metrics ? ListenToMeters() : null;
    }

    /// <summary>Spans stopped while listening.</summary>
    public long Spans => _spans.Sum();

    /// <summary>Measurements recorded while listening (observable instruments are never polled).</summary>
    public long Measurements => _measurements.Sum();

    /// <summary>The names of the meters whose instruments were enabled.</summary>
    public SortedSet<string> Meters { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Whether anything still listens to a source or a meter of this name: a new source and a new instrument by that
    /// name are probed, which every listener still attached is asked about.
    /// </summary>
    public static bool AnyListening(string name)
    {
        using var source = new ActivitySource(name);
        using var meter = new Meter(name);
        return source.HasListeners() || meter.CreateCounter<long>("probe").Enabled;
    }

    public void Dispose()
    {
        _sources?.Dispose();
        _meters?.Dispose();
    }

    private bool Matches(string name) => name.StartsWith(_prefix, StringComparison.Ordinal);

    private ActivityListener ListenToSources()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => Matches(source.Name),
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            SampleUsingParentId = static (ref ActivityCreationOptions<string> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _ => _spans.Increment(),
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private MeterListener ListenToMeters()
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (Matches(instrument.Meter.Name))
                {
                    lock (_lock)
                    {
                        Meters.Add(instrument.Meter.Name);
                    }

                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, _, _, _) => _measurements.Increment());
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => _measurements.Increment());
        listener.SetMeasurementEventCallback<int>((_, _, _, _) => _measurements.Increment());
        listener.Start();
        return listener;
    }
}
