namespace Bus.HealthChecks;

/// <summary>
/// Remembers, per queue name, since when (a <see cref="TimeProvider"/> timestamp) the check has seen the queue at or
/// above the saturation threshold. A queue seen below it, or gone from the bus, is forgotten, so the state never holds
/// more than the bus's queues. Not thread-safe; the check locks.
/// </summary>
internal sealed class SaturationTracker
{
    private Dictionary<string, long> _since = new(StringComparer.Ordinal);

    /// <summary>Records what the snapshot shows and returns how long each saturated queue has been seen saturated.</summary>
    public IReadOnlyDictionary<string, TimeSpan> Observe(IReadOnlyList<QueueSnapshot> queues, double threshold, TimeProvider time)
    {
        var now = time.GetTimestamp();
        var since = new Dictionary<string, long>(StringComparer.Ordinal);
        var durations = new Dictionary<string, TimeSpan>(StringComparer.Ordinal);
        foreach (var queue in queues)
        {
            if (!IsSaturated(queue, threshold))
            {
                continue;
            }

            var first = _since.GetValueOrDefault(queue.Name, now);
            since[queue.Name] = first;
            durations[queue.Name] = time.GetElapsedTime(first, now);
        }

        _since = since;
        return durations;
    }

    /// <summary>Whether the queue's depth is at least <paramref name="threshold"/> of its capacity.</summary>
    public static bool IsSaturated(QueueSnapshot queue, double threshold) =>
        queue.Capacity > 0 && (double)queue.Depth / queue.Capacity >= threshold;
}
