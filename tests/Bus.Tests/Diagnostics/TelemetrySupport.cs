using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Diagnostics;

public sealed record Shipment(int OrderId);

public sealed record Quote(int Id);

public sealed record Price(int Id, decimal Amount);

/// <summary>
/// The tests that listen to the bus's <see cref="ActivitySource"/>. It is static and shared by every bus in the
/// process, so these tests run alone: a listener on it sends every bus's publishes down the observed path (which the
/// allocation tests would see), and the test that proves nothing is stamped without a listener needs none anywhere.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BusActivitySourceCollection
{
    public const string Name = "Bus ActivitySource";
}

/// <summary>
/// Listens to the bus's spans and keeps those of one trace: the test's own root span, started on a source of the tests,
/// is current for what the test publishes, so every span the bus starts from there carries its trace id; a batch span,
/// which starts a trace of its own, is kept when it links to the test's trace.
/// </summary>
internal sealed class SpanCollector : IDisposable
{
    private const string TestSourceName = "Bus.Tests.Diagnostics";
    private static readonly ActivitySource s_tests = new(TestSourceName);

    private readonly ActivityListener _listener;
    private readonly ConcurrentQueue<Activity> _stopped = new();
    private readonly Lock _lock = new();
    private readonly List<(Func<IReadOnlyList<Activity>, bool> Done, TaskCompletionSource Signal)> _waiters = [];
    private Activity? _root;

    public SpanCollector()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is BusDiagnostics.SourceName or TestSourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = OnStopped,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The test's root span; its trace is the one kept.</summary>
    public Activity Root => _root ?? throw new InvalidOperationException("No trace started.");

    public ActivityTraceId TraceId => Root.TraceId;

    /// <summary>Called with each of the trace's spans as it ends, on the thread that ends it.</summary>
    public Action<Activity>? OnEnded { get; set; }

    /// <summary>The bus's spans of the trace that have ended.</summary>
    public IReadOnlyList<Activity> Spans => [.. _stopped];

    /// <summary>
    /// Starts the test's root span and makes it current for the caller (a synchronous call, so the change stays in
    /// the test's execution context). Start the bus first: its readers must not start inside the test's trace.
    /// </summary>
    public Activity StartTrace()
    {
        Activity.Current = null;
        _root = s_tests.StartActivity("test") ?? throw new InvalidOperationException("The test source is not sampled.");
        return _root;
    }

    /// <summary>Completes with the spans once <paramref name="done"/> holds for them; the bus ends a span after settling.</summary>
    public async Task<IReadOnlyList<Activity>> WhenAsync(Func<IReadOnlyList<Activity>, bool> done)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (done(Spans))
            {
                return Spans;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((done, signal));
        }

        try
        {
            await signal.Task.WaitAsync(TestBus.Timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The spans never matched; ended so far:{Environment.NewLine}{Describe(Spans)}");
        }

        return Spans;
    }

    /// <summary>Completes once <paramref name="count"/> spans match <paramref name="match"/>.</summary>
    public Task<IReadOnlyList<Activity>> WhenCountAsync(Func<Activity, bool> match, int count) =>
        WhenAsync(spans => spans.Count(match) >= count);

    public void Dispose()
    {
        _root?.Stop();
        Activity.Current = null;
        _listener.Dispose();
    }

    public static string Describe(IEnumerable<Activity> spans) =>
        string.Join(Environment.NewLine, spans.Select(s =>
            $"  {s.DisplayName} [{s.Kind}] span {s.SpanId} parent {s.ParentSpanId} events {string.Join(",", s.Events.Select(e => e.Name))}"));

    private void OnStopped(Activity activity)
    {
        if (_root is not { } root || activity.Source.Name != BusDiagnostics.SourceName)
        {
            return;
        }

        if (activity.TraceId != root.TraceId && !activity.Links.Any(l => l.Context.TraceId == root.TraceId))
        {
            return;
        }

        OnEnded?.Invoke(activity);
        _stopped.Enqueue(activity);
        lock (_lock)
        {
            var spans = Spans;
            foreach (var waiter in _waiters.FindAll(w => w.Done(spans)))
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }
}

/// <summary>Reading spans by the conventions' attributes.</summary>
internal static class SpanExtensions
{
    public static string? Tag(this Activity activity, string name) => activity.GetTagItem(name)?.ToString();

    public static bool IsPublishOf<T>(this Activity activity) =>
        activity.Kind == ActivityKind.Producer && activity.Tag("bus.message.type") == typeof(T).FullName;

    public static bool IsProcessOf<T>(this Activity activity) =>
        activity.Kind == ActivityKind.Consumer && activity.Tag("bus.message.type") == typeof(T).FullName;

    public static ActivityEvent? Event(this Activity activity, string name) =>
        activity.Events.Where(e => e.Name == name).Select(e => (ActivityEvent?)e).FirstOrDefault();

    /// <summary>The one event of that name on the span; fails the test, naming the events there are, when not exactly one.</summary>
    public static ActivityEvent SingleEvent(this Activity activity, string name)
    {
        var found = activity.Events.Where(e => e.Name == name).ToList();
        found.Should().ContainSingle($"span {activity.DisplayName} should have one {name} event; it has [{string.Join(", ", activity.Events.Select(e => e.Name))}]");
        return found[0];
    }

    public static object? Tag(this ActivityEvent activityEvent, string name) =>
        activityEvent.Tags.FirstOrDefault(t => t.Key == name).Value;
}

/// <summary>One measurement as a listener got it.</summary>
internal sealed record Measured(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public object? this[string tag] => Tags.GetValueOrDefault(tag);
}

/// <summary>
/// Records the measurements of one bus's instruments: those of the meters made by the container's
/// <see cref="IMeterFactory"/>, so other buses running at the same time (each with a meter named "Bus") are not heard.
/// </summary>
internal sealed class MeasurementLog : IDisposable
{
    private readonly MeterListener _listener;
    private readonly ConcurrentQueue<Measured> _measured = new();

    public MeasurementLog(IMeterFactory factory)
    {
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Scope == factory && instrument.Meter.Name == BusDiagnostics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Add(instrument, value, tags));
        _listener.Start();
    }

    /// <summary>Called with each measurement as it is recorded, on the recording thread.</summary>
    public Action<Measured>? OnMeasured { get; set; }

    public IReadOnlyList<Measured> All => [.. _measured];

    public IReadOnlyList<Measured> Of(string instrument) => [.. _measured.Where(m => m.Instrument == instrument)];

    public long Sum(string instrument, Func<Measured, bool>? where = null) =>
        (long)Of(instrument).Where(where ?? (_ => true)).Sum(m => m.Value);

    /// <summary>Reads the observable gauges now, and returns what they gave.</summary>
    public IReadOnlyList<Measured> Observe()
    {
        var before = _measured.Count;
        _listener.RecordObservableInstruments();
        return [.. _measured.Skip(before)];
    }

    public void Dispose() => _listener.Dispose();

    private void Add<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var copy = new Dictionary<string, object?>(tags.Length);
        foreach (var (key, tagValue) in tags)
        {
            copy[key] = tagValue;
        }

        var measured = new Measured(instrument.Name, Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture), copy);
        _measured.Enqueue(measured);
        OnMeasured?.Invoke(measured);
    }
}

/// <summary>A log line with the values of every scope it was written in, copied when it was written.</summary>
internal sealed record ScopedEntry(string Category, string Message, IReadOnlyList<IReadOnlyDictionary<string, object?>> Scopes)
{
    /// <summary>A value from the innermost scope that has it.</summary>
    public object? Scoped(string key) =>
        Scopes.Reverse().Select(s => s.TryGetValue(key, out var value) ? value : null).FirstOrDefault(v => v is not null);
}

/// <summary>
/// A logger provider that reads scopes the way real providers do: through the factory's
/// <see cref="IExternalScopeProvider"/>, copying each scope's key-value pairs when a line is written.
/// </summary>
internal sealed class ScopeCapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private readonly ConcurrentQueue<ScopedEntry> _entries = new();
    private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

    public IReadOnlyList<ScopedEntry> Entries => [.. _entries];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

    public void Dispose()
    {
    }

    private sealed class Logger(ScopeCapturingLoggerProvider provider, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => provider._scopes.Push(state);

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var scopes = new List<IReadOnlyDictionary<string, object?>>();
            provider._scopes.ForEachScope(
                static (scope, list) =>
                {
                    var values = new Dictionary<string, object?>();
                    if (scope is IEnumerable<KeyValuePair<string, object?>> pairs)
                    {
                        foreach (var (key, value) in pairs)
                        {
                            values[key] = value;
                        }
                    }
                    else
                    {
                        values["Scope"] = scope?.ToString();
                    }

                    list.Add(values);
                },
                scopes);
            provider._entries.Enqueue(new ScopedEntry(category, formatter(state, exception), scopes));
        }
    }
}
