using Bus.Tests.Support;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 10 (the clock half): a delayed retry is due a span of time after its failure, on the monotonic
/// clock, so stepping the wall clock (NTP, an operator, a VM resumed) neither brings it forward nor holds it back.
/// </summary>
/// <remarks>
/// A <see cref="FakeTimeProvider"/> alone cannot show this: its <see cref="FakeTimeProvider.SetUtcNow"/> moves its
/// timestamp and fires its timers as well, so a step there is the same as time passing. These tests give the bus a
/// <see cref="SteppableWallClock"/>: the fake clock's timestamp and timers, with a wall clock that can be stepped alone.
/// Two queues retry after 1 and 10 minutes; the 1-minute retry fires the bus's timer, and the 10-minute one must not
/// ride along (or, after a backward step, must not be held back).
/// </remarks>
public sealed class RetryClockRegressionTests
{
    private const string Short = "short";
    private const string Long = "long";

    [Fact]
    public async Task A_wall_clock_step_forward_does_not_make_a_delayed_retry_due_early()
    {
        await using var bus = await StartWithBothRetriesWaitingAsync();

        bus.Get<SteppableWallClock>().Step(TimeSpan.FromHours(1));
        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        Retried(bus).Should().Equal([Short], "only the 1-minute retry is due; the 10-minute one has 9 minutes to go whatever the wall clock says");
        bus.Time.Advance(TimeSpan.FromMinutes(9));
        await bus.IdleAsync();
        Retried(bus).Should().BeEquivalentTo([Short, Long]);
    }

    [Fact]
    public async Task A_wall_clock_step_backward_does_not_hold_a_delayed_retry_back()
    {
        await using var bus = await StartWithBothRetriesWaitingAsync();

        bus.Get<SteppableWallClock>().Step(TimeSpan.FromHours(-1));
        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        Retried(bus).Should().Equal([Short], "the 1-minute retry is due a minute after its failure, whatever the wall clock says");
        bus.Time.Advance(TimeSpan.FromMinutes(9));
        await bus.IdleAsync();
        Retried(bus).Should().BeEquivalentTo([Short, Long]);
    }

    /// <summary>Which queues delivered their job a second time.</summary>
    private static List<string> Retried(TestBus bus) =>
        [.. bus.Recorder.All.Where(r => r.Envelope.DeliveryCount == 2).Select(r => r.Queue)];

    /// <summary>A bus whose two queues each failed their job once and wait to retry it, after 1 and 10 minutes.</summary>
    private static async Task<TestBus> StartWithBothRetriesWaitingAsync()
    {
        var bus = await TestBus.StartAsync(
            b => b
                .AddQueue(Short, q => q.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromMinutes(1)))
                .AddQueue(Long, q => q.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromMinutes(10)))
                .AddConsumer<FailsFirstConsumer>(c => c.Queue = Short)
                .AddConsumer<FailsFirstConsumer>(c => c.Queue = Long),
            s => s
                .AddSingleton(provider => new SteppableWallClock(provider.GetRequiredService<FakeTimeProvider>()))
                .AddSingleton<TimeProvider>(provider => provider.GetRequiredService<SteppableWallClock>()));
        await bus.Publisher.SendAsync(Short, new Job(1));
        await bus.Publisher.SendAsync(Long, new Job(2));
        await bus.IdleAsync();
        var statistics = bus.Bus.GetStatistics();
        (statistics.GetQueue(Short).WaitingForRetry, statistics.GetQueue(Long).WaitingForRetry).Should().Be((1L, 1L));
        return bus;
    }

    /// <summary>Fails the first delivery of each message, records the others.</summary>
    public sealed class FailsFirstConsumer(Recorder recorder) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.DeliveryCount == 1)
            {
                throw new InvalidOperationException("the first delivery fails");
            }

            recorder.Record(context, nameof(FailsFirstConsumer));
            return default;
        }
    }
}
