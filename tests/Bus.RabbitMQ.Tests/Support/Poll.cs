namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// Waits for a state of the broker that no signal announces (a message the broker dead-lettered on its own, a
/// connection the management API lists late): checks every 50 ms, bounded by <see cref="BrokerVhost.Timeout"/>. Never
/// a way to let time pass: the condition is the point.
/// </summary>
public static class Poll
{
    private static readonly TimeSpan s_interval = TimeSpan.FromMilliseconds(50);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what)
    {
        if (await condition())
        {
            return;
        }

        using var timeout = new CancellationTokenSource(BrokerVhost.Timeout);
        using var timer = new PeriodicTimer(s_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(timeout.Token))
            {
                if (await condition())
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
        }

        throw new TimeoutException($"Waited {BrokerVhost.Timeout.TotalSeconds} s in vain for: {what}.");
    }
}
