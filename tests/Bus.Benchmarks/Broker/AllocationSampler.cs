using System.Collections.Concurrent;
using System.Diagnostics.Tracing;

namespace Bus.Benchmarks;

/// <summary>
/// Which types a run allocates, from the runtime's allocation ticks (<c>GCAllocationTick</c>: one event per about
/// 100 KB allocated, naming the type of the object that crossed the mark), so each type's share of the events is its
/// share of the bytes, in expectation. Cheap enough to leave on for a whole run; a diagnostic, not a measurement.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new(StringComparer.Ordinal);
    private volatile bool _recording;

    public void Start()
    {
        _bytes.Clear();
        _recording = true;
    }

    /// <summary>Stops recording; the types by their estimated share of <paramref name="total"/> bytes, largest first.</summary>
    public List<(string Type, double Bytes)> Stop(long total)
    {
        _recording = false;
        var sampled = _bytes.Values.Sum();
        return [.. _bytes.OrderByDescending(p => p.Value).Select(p => (p.Key, sampled == 0 ? 0 : total * (double)p.Value / sampled))];
    }

    protected override void OnEventSourceCreated(EventSource eventSource)
    {
        if (eventSource.Name == "Microsoft-Windows-DotNETRuntime")
        {
            EnableEvents(eventSource, EventLevel.Verbose, GcKeyword);
        }
    }

    protected override void OnEventWritten(EventWrittenEventArgs eventData)
    {
        if (!_recording || eventData.EventName is null || !eventData.EventName.StartsWith("GCAllocationTick", StringComparison.Ordinal) || eventData.Payload is null)
        {
            return;
        }

        var index = eventData.PayloadNames!.IndexOf("TypeName");
        var amount = eventData.PayloadNames.IndexOf("AllocationAmount64");
        var type = index >= 0 ? eventData.Payload[index] as string ?? "?" : "?";
        var bytes = amount >= 0 && eventData.Payload[amount] is ulong large ? (long)large : 100_000;
        _bytes.AddOrUpdate(type, bytes, (_, sum) => sum + bytes);
    }
}
