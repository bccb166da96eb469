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

    [Fact]
    public void A_filter_returns_a_new_policy_and_leaves_the_original_unchanged()
    {
        var original = RetryPolicy.Immediate(3);

        var narrowed = original.Ignore<ArgumentException>();

        narrowed.Should().NotBeSameAs(original);
        Decide(original, 1, new ArgumentException()).ShouldRetry.Should().BeTrue("a shared policy cannot be changed by another queue's filter");
        Decide(narrowed, 1, new ArgumentException()).ShouldRetry.Should().BeFalse();
    }

    [Fact]
    public void A_policy_built_from_options_does_not_change_when_the_options_do()
    {
        var options = new RetryPolicyOptions { MaxRetries = 2, Delay = TimeSpan.FromSeconds(3), Backoff = RetryBackoff.Linear };
        var policy = RetryPolicy.Create(options);

        options.MaxRetries = 10;
        options.Delay = TimeSpan.FromHours(1);

        policy.Retries.Should().Be(2);
        Decide(policy, 1).Delay.Should().Be(TimeSpan.FromSeconds(3));
        Decide(policy, 2).Delay.Should().Be(TimeSpan.FromSeconds(6), "a linear backoff multiplies the delay by the retry number");
        Decide(policy, 3).Reason.Should().Be(DeadLetterReason.MaxRetriesExceeded);
    }

    [Fact]
    public void Jitter_comes_from_the_randomizer_given()
    {
        var draws = new Queue<double>([0.0, 0.999999, 0.5]);
        var policy = RetryPolicy.Create(new RetryPolicyOptions
        {
            MaxRetries = 3,
            Delay = TimeSpan.FromSeconds(10),
            Jitter = 0.2,
            Randomizer = draws.Dequeue,
        });

        Decide(policy, 1).Delay.Should().Be(TimeSpan.FromSeconds(8));
        Decide(policy, 2).Delay.Should().BeCloseTo(TimeSpan.FromSeconds(12), TimeSpan.FromMilliseconds(1));
        Decide(policy, 3).Delay.Should().Be(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public void Options_out_of_range_are_refused_by_name()
    {
        var create = () => RetryPolicy.Create(new RetryPolicyOptions { Jitter = 1.5 });

        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("options.Jitter");
    }

    [Fact]
    public void A_retry_filter_set_in_options_decides_which_failures_are_retried()
    {
        var policy = RetryPolicy.Create(new RetryPolicyOptions { ShouldRetry = e => e is TimeoutException });

        Decide(policy, 1, new TimeoutException()).ShouldRetry.Should().BeTrue();
        Decide(policy, 1, new InvalidOperationException()).Reason.Should().Be(DeadLetterReason.NotRetryable);
    }
}
