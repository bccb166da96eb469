using Bus.Testing;

namespace Bus.Tests.Samples;

/// <summary>Runs a sample's retries and backoff on the harness's fake clock, so its tests never wait for real time.</summary>
internal static class SampleClock
{
    private static readonly TimeSpan Step = TimeSpan.FromMilliseconds(50);
    private const int MaxSteps = 10_000;

    /// <summary>
    /// Gets the "wait until settled" a sample's run takes: wait until idle; while anything is still pending (a delayed
    /// retry that is not due), move the fake clock a step and wait again.
    /// </summary>
    public static Func<CancellationToken, Task> Settle(BusTestHarness harness) => async cancellationToken =>
    {
        for (var step = 0; ; step++)
        {
            await harness.WaitUntilIdleAsync(cancellationToken);
            if (harness.Bus.GetStatistics().Queues.All(q => q.Pending == 0))
            {
                return;
            }

            if (step == MaxSteps)
            {
                throw new TimeoutException($"Still pending after moving the fake clock {MaxSteps} steps of {Step.TotalMilliseconds} ms.");
            }

            harness.Time.Advance(Step);
        }
    };
}
