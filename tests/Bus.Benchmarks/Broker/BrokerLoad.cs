namespace Bus.Benchmarks;

/// <summary>
/// The publishing side of the broker throughput scenario, the same for every contender: <c>count</c> publishes, at
/// most <c>outstanding</c> awaiting their confirm at any time. There are <c>outstanding</c> loops; each publishes
/// message <c>i</c>, awaits its confirm, then takes message <c>i + outstanding</c>, so the window stays full until
/// the end without a task or a semaphore per message (what the harness allocates is one state machine per loop).
/// </summary>
internal static class BrokerLoad
{
    public static Task PublishAsync(int count, int outstanding, Func<int, ValueTask> publish)
    {
        var loops = new Task[Math.Min(outstanding, count)];
        for (var loop = 0; loop < loops.Length; loop++)
        {
            loops[loop] = LoopAsync(loop, count, loops.Length, publish);
        }

        return Task.WhenAll(loops);
    }

    private static async Task LoopAsync(int first, int count, int stride, Func<int, ValueTask> publish)
    {
        // Off the caller's thread at once: the loops start together rather than one after another's first await.
        await Task.Yield();
        for (var i = first; i < count; i += stride)
        {
            await publish(i);
        }
    }
}
