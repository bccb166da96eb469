using Bus.Testing;
using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// A delayed retry used to make the queue idle before its timer was armed and before the retry was announced to
/// observers: a test that saw the bus idle and then moved the fake clock could miss the retry, or find no "retried"
/// event. Repeated, because the window was a race.
/// </summary>
public sealed class DelayedRetryIdleRegressionTests
{
    [Fact]
    public async Task A_delayed_retry_is_announced_and_armed_by_the_time_the_bus_is_idle()
    {
        for (var round = 0; round < 50; round++)
        {
            await using var harness = await BusTestHarness.StartAsync(
                b => b.AddConsumer<FailsFirstAttempt>(c => c.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromSeconds(1))));

            await harness.PublishAndWaitAsync(new Job(round));
            harness.Retried<Job>().Should().ContainSingle($"round {round}: the retry is recorded before the bus is idle");

            await harness.AdvanceAsync(TimeSpan.FromSeconds(1));
            harness.Consumed<Job>().Should().ContainSingle($"round {round}: the retry came due when the clock moved");
        }
    }

    public sealed class FailsFirstAttempt : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            context.DeliveryCount == 1 ? throw new InvalidOperationException("the first attempt fails") : default;
    }
}
