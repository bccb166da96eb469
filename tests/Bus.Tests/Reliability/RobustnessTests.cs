using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

/// <summary>Failures inside the bus's own machinery, and the edges of stopping: nothing may kill a worker or lose a message.</summary>
public sealed class RobustnessTests
{
    [Fact]
    public async Task A_dead_letter_store_that_throws_does_not_kill_the_worker_and_the_message_is_reported_at_stop()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("jobs").AddConsumer<FlakyConsumer>(c => c.Queue = "jobs").Configure(o => o.StopTimeout = TimeSpan.Zero),
            s => s.AddSingleton<Script>().AddSingleton<IDeadLetterStore, BrokenStore>());
        bus.Get<Script>().FailuresLeft[1] = 1;

        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.Publisher.SendAsync("jobs", new Job(2));
        await bus.Get<Script>().WhenConsumedAsync(2);

        var report = await bus.Bus.StopAsync().WaitAsync(TestBus.Timeout);

        bus.Get<Script>().Consumed.Keys.Should().Equal(2);
        bus.Logs.Entries.Should().Contain(e => e.EventId == 29);
        report.Unprocessed.Should().ContainSingle().Which.Envelope.Message.Should().Be(new Job(1));
    }

    [Fact]
    public async Task A_retry_policy_that_throws_dead_letters_the_message_and_says_why()
    {
        await using var bus = await FlakyBus.StartAsync(new ThrowingPolicy());
        bus.Get<Script>().FailuresLeft[1] = 1;

        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.Publisher.SendAsync("jobs", new Job(2));
        await bus.IdleAsync();

        bus.Get<Script>().Consumed.Keys.Should().Equal(2);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Description.Should().Contain("the retry policy threw");
    }

    [Fact]
    public async Task A_retry_delay_beyond_what_timers_take_waits_without_breaking_anything()
    {
        await using var bus = await FlakyBus.StartAsync(RetryPolicy.Interval(1, TimeSpan.FromDays(60)));
        bus.Get<Script>().FailuresLeft[1] = 1;

        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.Publisher.SendAsync("jobs", new Job(2));
        await bus.IdleAsync();
        bus.Get<Script>().Consumed.Keys.Should().Equal(2);
        bus.Bus.GetStatistics().GetQueue("jobs").WaitingForRetry.Should().Be(1);

        bus.Time.Advance(TimeSpan.FromDays(50));
        await bus.IdleAsync();
        bus.Get<Script>().Consumed.ContainsKey(1).Should().BeFalse();
        bus.Time.Advance(TimeSpan.FromDays(10));
        await bus.IdleAsync();
        bus.Get<Script>().Consumed[1].Should().Be(1);
    }

    [Fact]
    public async Task A_long_run_of_immediate_retries_does_not_deepen_the_stack()
    {
        await using var bus = await FlakyBus.StartAsync(RetryPolicy.Immediate(5_000));
        bus.Get<Script>().FailuresLeft[1] = 4_000;

        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.IdleAsync();

        bus.Get<Script>().Consumed[1].Should().Be(1);
        bus.Get<Script>().Attempts.Should().HaveCount(4_001);
    }

    [Fact]
    public async Task Rejecting_and_then_throwing_is_still_a_rejection()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RejectThenThrowConsumer>(c => c.RetryPolicy = RetryPolicy.Immediate(3)));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Description).Should().Be((DeadLetterReason.Rejected, "bad input"));
    }

    [Fact]
    public async Task A_consumer_publishing_after_the_stop_gave_up_on_it_is_refused_not_lost()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<PublishOnCancelConsumer>().AddConsumer<RecordingConsumer<PaymentCompleted>>().Configure(o => o.StopTimeout = TimeSpan.FromSeconds(1)),
            s => s.AddSingleton<Gate>().AddSingleton<PublishOnCancelConsumer.Result>());
        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(1));
        var failure = await bus.Get<PublishOnCancelConsumer.Result>().Failure.Task.WaitAsync(TestBus.Timeout);
        bus.Time.Advance(TimeSpan.FromSeconds(1));
        bus.Get<Gate>().Open();
        await stopping.WaitAsync(TestBus.Timeout);

        failure.Should().BeOfType<BusNotRunningException>();
        bus.Recorder.Messages<PaymentCompleted>().Should().BeEmpty();
    }

    [Fact]
    public async Task A_stop_ends_even_when_a_consumer_ignores_its_token_and_its_message_is_reported_once()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<DeafConsumer>(c => c.Queue = "jobs").Configure(o => o.StopTimeout = TimeSpan.FromSeconds(5)),
            s => s.AddSingleton<Gate>().AddSingleton<DeafConsumer.Finished>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        var report = await stopping.WaitAsync(TestBus.Timeout);
        bus.Get<Gate>().Open();

        report.Unprocessed.Should().ContainSingle().Which.WasInFlight.Should().BeTrue();
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.BusStopped);
        await bus.Get<DeafConsumer.Finished>().Signal.Task.WaitAsync(TestBus.Timeout);
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.Pending, statistics.DeadLettered, statistics.Consumed).Should().Be((0L, 1L, 0L), "the consumer's late success no longer counts");
    }

    [Fact]
    public void Topic_matching_stays_fast_with_many_hashes_on_long_keys()
    {
        var key = string.Join('.', Enumerable.Repeat("a", 100));
        var pattern = "#.a.#.a.#.a.#.a.#.a.#.z";

        TopicPattern.IsMatch(pattern, key).Should().BeFalse();
        TopicPattern.IsMatch(pattern, key + ".z").Should().BeTrue();
    }

    [Fact]
    public async Task Topic_trie_matching_stays_fast_with_many_hashes_on_long_keys()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("t", ExchangeType.Topic).AddQueue("q").Bind("t", "q", "#.a.#.a.#.a.#.a.#.a.#.z")
            .Configure(o => o.RoutingCacheSize = 0));
        var key = string.Join('.', Enumerable.Repeat("a", 120));

        await bus.Publisher.PublishAsync(new Animal("x"), new PublishOptions { Exchange = "t", RoutingKey = key });
        await bus.Publisher.PublishAsync(new Animal("x"), new PublishOptions { Exchange = "t", RoutingKey = key + ".z" });

        bus.Bus.GetStatistics().GetQueue("q").Enqueued.Should().Be(1);
    }

    /// <summary>Ignores its token entirely: only the gate lets it finish.</summary>
    public sealed class DeafConsumer(Gate gate, DeafConsumer.Finished finished) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            await gate.PassAsync(CancellationToken.None);
            finished.Signal.TrySetResult();
        }

        public sealed class Finished
        {
            public TaskCompletionSource Signal { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    public sealed class BrokenStore : IDeadLetterStore
    {
        public int Count => 0;

        public ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default) =>
            throw new IOException("the store's disk is full");

        public ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default) => new([]);

        public ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default) => new((DeadLetter?)null);

        public ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default) => new(false);

        public ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default) => new(0);
    }

    public sealed class ThrowingPolicy : IRetryPolicy
    {
        public RetryDecision Decide(in RetryContext context) => throw new NotSupportedException("policy bug");
    }

    public sealed class RejectThenThrowConsumer : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            context.Reject("bad input");
            throw new InvalidOperationException("and then it threw");
        }
    }

    /// <summary>Ignores its token, but publishes from the cancellation callback, as a consumer cleaning up might.</summary>
    public sealed class PublishOnCancelConsumer(Gate gate, PublishOnCancelConsumer.Result result) : IConsumer<OrderPlaced>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            cancellationToken.Register(() =>
            {
                try
                {
                    context.PublishAsync(new PaymentCompleted(1)).AsTask().GetAwaiter().GetResult();
                    result.Failure.TrySetResult(null);
                }
                catch (Exception exception)
                {
                    result.Failure.TrySetResult(exception);
                }
            });
            await gate.PassAsync(CancellationToken.None);
        }

        public sealed class Result
        {
            public TaskCompletionSource<Exception?> Failure { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }
}
