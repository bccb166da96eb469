using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

public sealed class RetryTests
{
    private static Task<TestBus> StartAsync(IRetryPolicy policy) => FlakyBus.StartAsync(policy);

    [Fact]
    public async Task Immediate_retries_deliver_again_at_once_with_a_growing_delivery_count()
    {
        await using var bus = await StartAsync(RetryPolicy.Immediate(3));
        bus.Get<Script>().FailuresLeft[1] = 2;

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var script = bus.Get<Script>();
        script.Attempts.Select(a => a.Delivery).Should().Equal(1, 2, 3);
        script.Consumed[1].Should().Be(1);
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.Faulted, statistics.Retried, statistics.Consumed, statistics.DeadLettered).Should().Be((2L, 2L, 1L, 0L));
    }

    [Fact]
    public async Task A_retry_is_marked_redelivered_and_the_first_delivery_is_not()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RedeliveryConsumer>(c => c.RetryPolicy = RetryPolicy.Immediate(1)),
            s => s.AddSingleton<RedeliveryLog>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Get<RedeliveryLog>().Seen.Should().Equal((1, false), (2, true));
    }

    [Fact]
    public async Task Exponential_backoff_retries_at_the_exact_delays()
    {
        await using var bus = await StartAsync(RetryPolicy.Exponential(3, TimeSpan.FromSeconds(1), factor: 2));
        var script = bus.Get<Script>();
        script.FailuresLeft[1] = 3;
        var start = bus.Time.GetUtcNow();

        await bus.Publisher.PublishAsync(new Job(1));
        for (var second = 0; second < 8; second++)
        {
            await bus.IdleAsync();
            bus.Time.Advance(TimeSpan.FromSeconds(1));
        }

        await bus.IdleAsync();
        script.Attempts.Select(a => a.At - start).Should().Equal(
            TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(7));
        script.Consumed[1].Should().Be(1);
    }

    [Fact]
    public async Task A_message_waiting_for_a_retry_does_not_hold_up_the_next_one()
    {
        await using var bus = await StartAsync(RetryPolicy.Interval(1, TimeSpan.FromMinutes(1)));
        var script = bus.Get<Script>();
        script.FailuresLeft[1] = 1;

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.IdleAsync();

        script.Consumed.Keys.Should().Equal(2);
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.WaitingForRetry, statistics.Pending, statistics.Depth).Should().Be((1L, 1L, 0));

        bus.Time.Advance(TimeSpan.FromSeconds(59));
        await bus.IdleAsync();
        script.Consumed.ContainsKey(1).Should().BeFalse("the retry is not due yet");

        bus.Time.Advance(TimeSpan.FromSeconds(1));
        await bus.IdleAsync();
        script.Consumed[1].Should().Be(1);
        bus.Bus.GetStatistics().GetQueue("jobs").WaitingForRetry.Should().Be(0);
    }

    [Fact]
    public async Task When_the_retries_run_out_the_message_is_dead_lettered_with_its_reason_and_exception()
    {
        await using var bus = await StartAsync(RetryPolicy.Interval(2, TimeSpan.FromSeconds(10)));
        bus.Get<Script>().FailuresLeft[7] = int.MaxValue;
        var start = bus.Time.GetUtcNow();

        await bus.Publisher.PublishAsync(new Job(7));
        for (var i = 0; i < 2; i++)
        {
            await bus.IdleAsync();
            bus.Time.Advance(TimeSpan.FromSeconds(10));
        }

        await bus.IdleAsync();
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        deadLetter.Reason.Should().Be(DeadLetterReason.MaxRetriesExceeded);
        deadLetter.Queue.Should().Be("jobs");
        deadLetter.Message.Should().Be(new Job(7));
        deadLetter.Attempts.Should().Be(3);
        deadLetter.Error!.Type.Should().Be(typeof(InvalidOperationException).FullName);
        deadLetter.Error.Message.Should().Be("job 7 failed");
        deadLetter.Error.StackTrace.Should().Contain(nameof(FlakyConsumer));
        deadLetter.FirstFailedAt.Should().Be(start);
        deadLetter.LastFailedAt.Should().Be(start + TimeSpan.FromSeconds(20));
        deadLetter.Envelope.Headers[RetryHeaders.FirstFailedAt].Should().Be(start);
        bus.Logs.Entries.Should().Contain(e => e.EventId == 23 && e.Message.Contains("MaxRetriesExceeded"));
    }

    [Fact]
    public async Task A_rejected_message_is_dead_lettered_without_retries()
    {
        await using var bus = await StartAsync(RetryPolicy.Immediate(5));
        bus.Get<Script>().Rejects.Add(3);

        await bus.Publisher.PublishAsync(new Job(3));
        await bus.IdleAsync();

        bus.Get<Script>().Attempts.Should().ContainSingle();
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Description, deadLetter.Attempts).Should().Be((DeadLetterReason.Rejected, "job is malformed", 1));
    }

    [Fact]
    public async Task Throwing_MessageRejectedException_rejects_without_retries()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<PoisonConsumer>(c => c.RetryPolicy = RetryPolicy.Immediate(5)));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Bus.GetStatistics().Queues.Single().Faulted.Should().Be(1);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        deadLetter.Reason.Should().Be(DeadLetterReason.Rejected);
        deadLetter.Error!.Message.Should().Be("cannot parse");
    }

    [Fact]
    public async Task An_exception_the_policy_ignores_is_dead_lettered_as_not_retryable()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<PoisonConsumer>(c => c.RetryPolicy = RetryPolicy.Immediate(5).Ignore<FormatException>()));

        await bus.Publisher.PublishAsync(new Job(2));
        await bus.IdleAsync();

        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.NotRetryable);
    }

    [Fact]
    public async Task A_consumer_policy_overrides_its_queue_and_the_bus_default()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .Configure(o => o.RetryPolicy = RetryPolicy.Immediate(1))
                .AddQueue("jobs", q => q.RetryPolicy = RetryPolicy.Immediate(2))
                .AddConsumer<FlakyConsumer>(c => { c.Queue = "jobs"; c.RetryPolicy = RetryPolicy.Immediate(4); })
                .AddQueue("others", q => q.RetryPolicy = RetryPolicy.Immediate(2))
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "others"),
            s => s.AddSingleton<Script>());
        bus.Get<Script>().FailuresLeft[1] = 4;

        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.IdleAsync();

        bus.Get<Script>().Consumed[1].Should().Be(1, "the consumer's four retries cover four failures");
    }

    [Fact]
    public async Task Messages_waiting_for_a_retry_are_reported_and_dead_lettered_when_the_bus_stops()
    {
        var bus = await StartAsync(RetryPolicy.Interval(1, TimeSpan.FromHours(1)));
        bus.Get<Script>().FailuresLeft[1] = 1;
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(BusOptions.DefaultStopTimeout);
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeFalse();
        report.Unprocessed.Should().ContainSingle().Which.Envelope.DeliveryCount.Should().Be(2);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.BusStopped);
        await bus.DisposeAsync();
    }

    [Fact]
    public async Task Stop_waits_for_a_retry_that_comes_due_within_the_timeout()
    {
        await using var bus = await StartAsync(RetryPolicy.Interval(1, TimeSpan.FromSeconds(5)));
        bus.Get<Script>().FailuresLeft[1] = 1;
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeTrue();
        bus.Get<Script>().Consumed[1].Should().Be(1);
    }

    public sealed class PoisonConsumer : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            context.Message.Id == 1
                ? throw new MessageRejectedException("cannot parse")
                : throw new FormatException("bad format");
    }
}

public sealed class RedeliveryLog
{
    public System.Collections.Concurrent.ConcurrentQueue<(int Delivery, bool Redelivered)> Seen { get; } = new();
}

/// <summary>Records what each delivery says about itself, and fails the first.</summary>
public sealed class RedeliveryConsumer(RedeliveryLog log) : IConsumer<Job>
{
    public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
    {
        log.Seen.Enqueue((context.DeliveryCount, context.IsRedelivered));
        return context.DeliveryCount == 1 ? throw new InvalidOperationException("the first delivery fails") : default;
    }
}
