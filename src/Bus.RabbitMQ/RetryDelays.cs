namespace Bus.RabbitMQ;

/// <summary>
/// The ladder of delays delayed retries wait on the broker: one wait queue per queue and rung, each with its own
/// <c>x-message-ttl</c>, so that a message never waits behind a longer one (a broker expires only the head of a queue).
/// A delay is rounded up to the next rung; one above the top rung waits the top rung.
/// </summary>
internal static class RetryDelays
{
    private static readonly TimeSpan[] s_rungs =
    [
        TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250), TimeSpan.FromMilliseconds(500),
        TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10),
        TimeSpan.FromSeconds(15), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(2),
        TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(10), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30),
        TimeSpan.FromHours(1), TimeSpan.FromHours(2), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1),
    ];

    /// <summary>Every rung, shortest first.</summary>
    public static IReadOnlyList<TimeSpan> Rungs => s_rungs;

    /// <summary>The rung a delay waits on: the smallest at least as long, or the top one.</summary>
    public static TimeSpan RungFor(TimeSpan delay)
    {
        foreach (var rung in s_rungs)
        {
            if (delay <= rung)
            {
                return rung;
            }
        }

        return s_rungs[^1];
    }
}
