using Bus.Tests.Support;

namespace Bus.Tests.Filters;

public sealed class ConsumeFilterTests
{
    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null) =>
        TestBus.StartAsync(configure, s =>
        {
            s.AddSingleton<Trail>().AddSingleton<InstanceCounter>().AddSingleton<TenantLog>();
            services?.Invoke(s);
        });

    [Fact]
    public async Task Filters_run_bus_wide_first_then_the_queues_then_the_consumers_each_in_the_order_added()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumeFilter<FirstBusFilter>()
            .AddConsumeFilter<SecondBusFilter>()
            .AddQueue("jobs", q => q.AddConsumeFilter<FirstQueueFilter>().AddConsumeFilter<SecondQueueFilter>())
            .Bind<Job>("jobs")
            .AddConsumer<TrailConsumer>(c =>
            {
                c.Queue = "jobs";
                c.AddConsumeFilter<FirstConsumerFilter>().AddConsumeFilter<SecondConsumerFilter>();
            }));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().Equal(
            "bus 1 before",
            "bus 2 before",
            "queue 1 before",
            "queue 2 before",
            "consumer 1 before",
            "consumer 2 before",
            "consumer",
            "consumer 2 after",
            "consumer 1 after",
            "queue 2 after",
            "queue 1 after",
            "bus 2 after",
            "bus 1 after");
    }

    [Fact]
    public async Task A_header_a_publish_filter_adds_is_seen_by_the_consumer()
    {
        await using var bus = await StartAsync(b => b
            .AddPublishFilter<TenantStampingPublishFilter>()
            .AddConsumer<RecordingConsumer<OrderPlaced>>());

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.IdleAsync();

        bus.Recorder.All.Should().ContainSingle().Which.Envelope.Headers.Should().Contain("tenant", "acme");
    }

    [Fact]
    public async Task A_filter_that_does_not_call_next_skips_the_consumer_and_the_message_counts_as_consumed()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.AddConsumeFilter<SwallowingFilter>();
            }));

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().HaveCount(3);
        bus.Recorder.All.Should().BeEmpty();
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.Consumed, statistics.Faulted, statistics.DeadLettered, statistics.Pending).Should().Be((3L, 0L, 0L, 0L));
    }

    [Fact]
    public async Task A_filter_that_rejects_dead_letters_the_message_as_rejected_without_retries_or_the_consumer()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.RetryPolicy = RetryPolicy.Immediate(3);
                c.AddConsumeFilter<RejectingFilter>();
            }));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Should().BeEmpty();
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Description, deadLetter.Attempts, deadLetter.Queue).Should().Be((DeadLetterReason.Rejected, "tenant is unknown", 1, "jobs"));
        deadLetter.Message.Should().Be(new Job(1));
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.Consumed, statistics.Retried, statistics.DeadLettered).Should().Be((0L, 0L, 1L));
        statistics.DeadLetteredByReason.Should().Equal(new Dictionary<DeadLetterReason, long> { [DeadLetterReason.Rejected] = 1 });
    }

    [Fact]
    public async Task A_filter_that_throws_is_retried_by_the_retry_policy_then_dead_lettered_with_its_exception()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.RetryPolicy = RetryPolicy.Immediate(2);
                c.AddConsumeFilter<ThrowingFilter>();
            }));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().Equal("attempt 1", "attempt 2", "attempt 3");
        bus.Recorder.All.Should().BeEmpty();
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Attempts).Should().Be((DeadLetterReason.MaxRetriesExceeded, 3));
        deadLetter.Error!.Type.Should().Be(typeof(InvalidOperationException).FullName);
        deadLetter.Error.Message.Should().Be("filter refused Job");
        deadLetter.Error.StackTrace.Should().Contain(nameof(ThrowingFilter));
        var statistics = bus.Bus.GetStatistics().GetQueue("jobs");
        (statistics.Faulted, statistics.Retried, statistics.Consumed, statistics.DeadLettered).Should().Be((3L, 2L, 0L, 1L));
    }

    [Fact]
    public async Task A_filter_that_throws_after_next_fails_the_delivery_though_the_consumer_succeeded()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.RetryPolicy = RetryPolicy.Immediate(1);
                c.AddConsumeFilter<ThrowingAfterNextFilter>();
            }));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Select(r => r.Envelope.DeliveryCount).Should().Equal(1, 2);
        bus.Get<Trail>().Steps.Should().Equal("after attempt 1", "after attempt 2");
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Attempts, deadLetter.Error!.Message).Should().Be((DeadLetterReason.MaxRetriesExceeded, 2, "audit failed"));
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(0);
    }

    [Fact]
    public async Task A_scoped_filter_and_a_scoped_consumer_share_the_scoped_services_of_each_message()
    {
        await using var bus = await StartAsync(
            b => b
                .AddConsumeFilter<TenantConsumeFilter>(ServiceLifetime.Scoped)
                .AddConsumer<TenantReadingConsumer>(c => c.Queue = "jobs"),
            s => s.AddScoped<TenantContext>());

        for (var i = 0; i < 5; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i), new PublishOptions { Headers = new Dictionary<string, object?> { ["tenant"] = $"tenant-{i}" } });
        }

        await bus.IdleAsync();

        var log = bus.Get<TenantLog>();
        log.ConsumerSaw.Keys.Order().Should().Equal(0, 1, 2, 3, 4);
        foreach (var (id, (instance, tenant)) in log.ConsumerSaw)
        {
            tenant.Should().Be($"tenant-{id}");
            instance.Should().BeSameAs(log.FilterSaw[id], "the filter and the consumer of one message share its scope");
        }

        log.ConsumerSaw.Values.Select(v => v.Instance).Should().OnlyHaveUniqueItems("each message has a scope of its own");
    }

    [Fact]
    public async Task A_singleton_filter_is_created_once_for_every_message_and_every_concurrent_consumer()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumeFilter<CountingFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.QueueOptions.Concurrency = 4;
            }));

        for (var i = 0; i < 50; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        var counter = bus.Get<InstanceCounter>();
        (counter.Created, counter.Calls).Should().Be((1, 50));
    }

    [Fact]
    public async Task A_singleton_queue_filter_the_container_does_not_know_is_created_once_for_the_queues_concurrent_consumers()
    {
        await using var bus = await StartAsync(b => b
            .AddQueue("jobs", q =>
            {
                q.Concurrency = 4;
                q.AddConsumeFilter<CountingFilter>();
            })
            .Bind<Job>("jobs")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        for (var i = 0; i < 50; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        var counter = bus.Get<InstanceCounter>();
        (counter.Created, counter.Calls).Should().Be((1, 50));
    }

    [Fact]
    public async Task A_transient_filter_is_created_for_every_message()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumeFilter<CountingFilter>(ServiceLifetime.Transient)
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        for (var i = 0; i < 5; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        var counter = bus.Get<InstanceCounter>();
        (counter.Created, counter.Calls).Should().Be((5, 5));
    }

    [Fact]
    public async Task A_filter_added_on_the_bus_options_runs_around_every_consumer()
    {
        await using var bus = await StartAsync(b => b
            .Configure(o => o.AddConsumeFilter<QueueMarkingFilter>())
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs")
            .AddConsumer<TrailConsumerOfJobs>(c => c.Queue = "more-jobs"));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Order().Should().Equal("jobs", "more-jobs");
        bus.Recorder.All.Should().HaveCount(2);
    }

    [Fact]
    public async Task A_batch_filter_runs_around_each_batch_and_sees_its_count()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumeFilter<BatchTrailFilter>()
            .AddConsumer<TrailBatchConsumer>(c =>
            {
                c.Queue = "jobs";
                c.Batch.MaxSize = 4;
                c.Batch.Window = TimeSpan.FromHours(1);
            }));

        for (var i = 0; i < 8; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.Get<Trail>().WhenCountAsync(6);
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().Equal(
            "before 4 from jobs",
            "batch 0,1,2,3",
            "after 4",
            "before 4 from jobs",
            "batch 4,5,6,7",
            "after 4");
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(8);
    }

    [Fact]
    public async Task A_filter_of_both_kinds_runs_for_single_messages_and_for_batches()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumeFilter<DualFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "single")
            .AddConsumer<TrailBatchConsumer>(c =>
            {
                c.Queue = "batched";
                c.Batch.MaxSize = 2;
                c.Batch.Window = TimeSpan.FromHours(1);
            }));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.Get<Trail>().WhenCountAsync(4);
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().BeEquivalentTo("message from single", "message from single", "batch of 2 from batched", "batch 1,2");
    }

    [Fact]
    public async Task A_filter_added_to_a_queue_applies_only_to_that_queue()
    {
        await using var bus = await StartAsync(b => b
            .AddQueue("filtered", q => q.AddConsumeFilter<QueueMarkingFilter>())
            .AddQueue("plain")
            .Bind<Job>("filtered")
            .Bind<Job>("plain")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "filtered")
            .AddConsumer<TrailConsumerOfJobs>(c => c.Queue = "plain"));

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        bus.Recorder.In("filtered").Should().HaveCount(3);
        bus.Recorder.In("plain").Should().HaveCount(3);
        bus.Get<Trail>().Steps.Should().Equal("filtered", "filtered", "filtered");
    }

    [Theory]
    [InlineData("bus builder")]
    [InlineData("bus options")]
    [InlineData("queue options")]
    [InlineData("consumer options")]
    public void Adding_a_consume_filter_that_implements_no_filter_interface_throws_naming_the_type(string where)
    {
        Action add = where switch
        {
            "bus builder" => () => new ServiceCollection().AddMessageBus().AddConsumeFilter<NotAFilter>(),
            "bus options" => () => new BusOptions().AddConsumeFilter<NotAFilter>(),
            "queue options" => () => new QueueOptions().AddConsumeFilter<NotAFilter>(),
            _ => () => new ConsumerOptions().AddConsumeFilter<NotAFilter>(),
        };

        add.Should().Throw<ArgumentException>().WithMessage($"*{typeof(NotAFilter).FullName}*").Which.ParamName.Should().Be("TFilter");
    }

    /// <summary>A second consumer type of <see cref="Job"/>, recording like <see cref="RecordingConsumer{TMessage}"/>.</summary>
    public sealed class TrailConsumerOfJobs(Recorder recorder) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(TrailConsumerOfJobs));
            return default;
        }
    }
}
