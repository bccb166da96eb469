using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

public sealed class RetryJitterRegressionTests
{
    private const string Queue = "jobs";

    [Theory]
    [InlineData(0.0, 500)]
    [InlineData(0.5, 1_000)]
    [InlineData(0.75, 1_250)]
    public void Jitter_drawn_from_an_injected_source_gives_exactly_the_expected_delay(double drawn, int expectedMilliseconds)
    {
        var policy = RetryPolicy.Create(new RetryPolicyOptions
        {
            MaxRetries = 3,
            Delay = TimeSpan.FromSeconds(1),
            Backoff = RetryBackoff.Exponential,
            Jitter = 0.5,
            Randomizer = () => drawn,
        });

        var decision = policy.Decide(new RetryContext(new InvalidOperationException("failed"), JobEnvelope(deliveryCount: 1), Queue));

        decision.ShouldRetry.Should().BeTrue();
        decision.Delay.Should().Be(TimeSpan.FromMilliseconds(expectedMilliseconds));
    }

    [Fact]
    public void Jittered_exponential_delays_follow_the_injected_source_retry_after_retry()
    {
        var draws = new Queue<double>([0.0, Math.BitDecrement(1.0), 0.5]);
        var policy = RetryPolicy.Create(new RetryPolicyOptions
        {
            MaxRetries = 3,
            Delay = TimeSpan.FromSeconds(1),
            Backoff = RetryBackoff.Exponential,
            Jitter = 0.5,
            Randomizer = () => draws.Dequeue(),
        });

        var delays = Enumerable.Range(1, 3)
            .Select(attempt => policy.Decide(new RetryContext(new InvalidOperationException("failed"), JobEnvelope(attempt), Queue)).Delay)
            .ToList();

        delays[0].Should().Be(TimeSpan.FromMilliseconds(500), "1 s moved down by 50%");
        delays[1].Should().BeCloseTo(TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(1), "2 s moved up by (almost) 50%");
        delays[2].Should().Be(TimeSpan.FromSeconds(4), "4 s unmoved");
    }

    [Fact]
    public async Task A_retry_with_pinned_jitter_is_redelivered_exactly_when_the_jittered_delay_has_passed()
    {
        var policy = RetryPolicy.Create(new RetryPolicyOptions
        {
            MaxRetries = 1,
            Delay = TimeSpan.FromSeconds(10),
            Backoff = RetryBackoff.Constant,
            Jitter = 0.5,
            Randomizer = () => 0.75,
        });
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue(Queue, q => q.RetryPolicy = policy)
            .AddConsumer<RetryClockRegressionTests.FailsFirstConsumer>(c => c.Queue = Queue));

        await bus.Publisher.SendAsync(Queue, new Job(1));
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(12.5) - TimeSpan.FromTicks(1));
        await bus.IdleAsync();
        bus.Recorder.All.Should().BeEmpty("the jittered delay is 12.5 s");

        bus.Time.Advance(TimeSpan.FromTicks(1));
        await bus.IdleAsync();
        bus.Recorder.All.Should().ContainSingle().Which.Envelope.DeliveryCount.Should().Be(2);
    }

    private static Envelope JobEnvelope(int deliveryCount) =>
        new(new Job(1), typeof(Job), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UnixEpoch, string.Empty, string.Empty, null, deliveryCount);
}
