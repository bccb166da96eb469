namespace Bus;

/// <summary>
/// One queue's counters as the monitor saw them at earlier reads, to turn totals into rates over the last minute.
/// Bounded: it keeps a sample at most every <see cref="Spacing"/>, and none older than a minute beyond the one that
/// opens the window, so at most 14 samples per queue. Not thread-safe; the monitor locks.
/// </summary>
internal sealed class RateWindow
{
    /// <summary>The span rates are averaged over, at most.</summary>
    public static readonly TimeSpan Span = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan Spacing = TimeSpan.FromSeconds(5);

    // Oldest first; a list, since the window needs the second oldest and the newest (at most 14: removing the head is cheap).
    private readonly List<(long Timestamp, RateSample Counts)> _samples = [];

    /// <summary>
    /// Rates from the oldest sample within the last minute (or just before it) to now, and records now. Without an
    /// earlier sample, the rates are averages since the bus started.
    /// </summary>
    public MessageRates Measure(TimeProvider time, long now, RateSample counts, TimeSpan uptime)
    {
        while (_samples.Count > 1 && time.GetElapsedTime(_samples[1].Timestamp, now) >= Span)
        {
            _samples.RemoveAt(0);
        }

        MessageRates rates;
        if (_samples.Count > 0 && time.GetElapsedTime(_samples[0].Timestamp, now) is { Ticks: > 0 } window)
        {
            rates = Rates(counts.Minus(_samples[0].Counts), window);
        }
        else
        {
            rates = uptime > TimeSpan.Zero ? Rates(counts, uptime) : default;
        }

        if (_samples.Count == 0 || time.GetElapsedTime(_samples[^1].Timestamp, now) >= Spacing)
        {
            _samples.Add((now, counts));
        }

        return rates;
    }

    // Published counts accepted minus withdrawn (a publish refused by a full queue is counted in, then out), so over a
    // short window it can dip: a rate is never below zero.
    private static MessageRates Rates(RateSample counts, TimeSpan window) => new(
        Math.Max(0, counts.Published) / window.TotalSeconds,
        Math.Max(0, counts.Consumed) / window.TotalSeconds,
        Math.Max(0, counts.Failed) / window.TotalSeconds,
        window);
}

/// <summary>A queue's totals at one read: accepted, consumed, failed.</summary>
internal readonly record struct RateSample(long Published, long Consumed, long Failed)
{
    public RateSample Minus(RateSample earlier) => new(Published - earlier.Published, Consumed - earlier.Consumed, Failed - earlier.Failed);
}
