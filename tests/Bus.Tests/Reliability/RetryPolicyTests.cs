namespace Bus.Tests.Reliability;

public sealed class RetryPolicyTests
{
    private static RetryDecision Decide(IRetryPolicy policy, int attempt, Exception? exception = null)
    {
        var envelope = new Envelope(new object(), typeof(object), Guid.NewGuid(), Guid.NewGuid(), DateTimeOffset.UnixEpoch, "", "", null, attempt);
        return policy.Decide(new RetryContext(exception ?? new InvalidOperationException("boom"), envelope, "q"));
    }

    [Fact]
    public void None_gives_up_on_the_first_failure_with_a_reason_that_says_no_retries_were_set()
    {
        var decision = Decide(RetryPolicy.None, attempt: 1);

        decision.ShouldRetry.Should().BeFalse();
        decision.Reason.Should().Be(DeadLetterReason.Failed);
    }

    [Fact]
    public void A_policy_whose_retries_ran_out_says_so()
    {
        var decision = Decide(RetryPolicy.Immediate(2), attempt: 3);

        decision.ShouldRetry.Should().BeFalse();
        decision.Reason.Should().Be(DeadLetterReason.MaxRetriesExceeded);
    }

    [Fact]
    public void Immediate_retries_at_once_the_given_number_of_times()
    {
        var policy = RetryPolicy.Immediate(2);

        Decide(policy, 1).Should().Be(RetryDecision.Immediately);
        Decide(policy, 2).Should().Be(RetryDecision.Immediately);
        Decide(policy, 3).ShouldRetry.Should().BeFalse();
    }

    [Fact]
    public void Interval_waits_the_same_delay_before_every_retry()
    {
        var policy = RetryPolicy.Interval(3, TimeSpan.FromSeconds(5));

        Enumerable.Range(1, 3).Select(a => Decide(policy, a).Delay).Should().AllBeEquivalentTo(TimeSpan.FromSeconds(5));
        Decide(policy, 4).ShouldRetry.Should().BeFalse();
    }

    [Fact]
    public void Intervals_waits_each_listed_delay_in_turn()
    {
        var policy = RetryPolicy.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));

        Enumerable.Range(1, 3).Select(a => Decide(policy, a).Delay)
            .Should().Equal(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10), TimeSpan.FromMinutes(1));
        Decide(policy, 4).ShouldRetry.Should().BeFalse();
    }

    [Fact]
    public void Exponential_multiplies_the_delay_by_the_factor_up_to_the_cap()
    {
        var policy = RetryPolicy.Exponential(5, TimeSpan.FromSeconds(1), factor: 3, maxDelay: TimeSpan.FromSeconds(20));

        Enumerable.Range(1, 5).Select(a => Decide(policy, a).Delay)
            .Should().Equal(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(20));
        Decide(policy, 6).ShouldRetry.Should().BeFalse();
    }

    [Fact]
    public void Exponential_jitter_stays_within_its_bound_and_varies()
    {
        var policy = RetryPolicy.Exponential(3, TimeSpan.FromSeconds(10), jitter: 0.25);

        var delays = Enumerable.Range(0, 500).Select(_ => Decide(policy, 2).Delay).ToList();

        delays.Should().OnlyContain(d => d >= TimeSpan.FromSeconds(15) && d <= TimeSpan.FromSeconds(25));
        delays.Distinct().Count().Should().BeGreaterThan(100);
    }

    [Fact]
    public void Ignored_exceptions_are_not_retried()
    {
        var policy = RetryPolicy.Immediate(3).Ignore<ArgumentException>();

        var decision = Decide(policy, 1, new ArgumentNullException("x"));

        decision.ShouldRetry.Should().BeFalse();
        decision.Reason.Should().Be(DeadLetterReason.NotRetryable);
        Decide(policy, 1, new TimeoutException()).ShouldRetry.Should().BeTrue();
    }

    [Fact]
    public void Handled_exceptions_and_predicates_are_the_only_ones_retried()
    {
        var policy = RetryPolicy.Immediate(3).Handle<TimeoutException>().When(e => e.Message == "transient");

        Decide(policy, 1, new TimeoutException()).ShouldRetry.Should().BeTrue();
        Decide(policy, 1, new InvalidOperationException("transient")).ShouldRetry.Should().BeTrue();
        Decide(policy, 1, new InvalidOperationException("permanent")).Reason.Should().Be(DeadLetterReason.NotRetryable);
    }

    [Fact]
    public void Ignore_wins_over_handle()
    {
        var policy = RetryPolicy.Immediate(3).Handle<Exception>().Ignore<ArgumentException>();

        Decide(policy, 1, new ArgumentException()).ShouldRetry.Should().BeFalse();
    }
}
