using Bus.Tests.Support;

namespace Bus.Tests.Filters;

public sealed class PublishFilterTests
{
    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null) =>
        TestBus.StartAsync(configure, s =>
        {
            s.AddSingleton<Trail>().AddSingleton<TenantLog>();
            services?.Invoke(s);
        });

    [Fact]
    public async Task A_publish_filter_that_does_not_call_next_drops_the_publish_and_the_caller_completes()
    {
        await using var bus = await StartAsync(b => b
            .AddPublishFilter<DroppingPublishFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        await bus.Publisher.PublishAsync(new Job(1)).AsTask().WaitAsync(TestBus.Timeout);
        await bus.Publisher.SendAsync("jobs", new Job(2)).AsTask().WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        bus.Get<Trail>().Steps.Should().Equal("dropped Job", "dropped Job");
        bus.Recorder.All.Should().BeEmpty();
        var statistics = bus.Bus.GetStatistics();
        (statistics.GetQueue("jobs").Enqueued, statistics.GetQueue("jobs").Depth).Should().Be((0L, 0));
        statistics.Unroutable.Should().Be(0, "a dropped publish is not an unroutable one");
    }

    [Theory]
    [InlineData(ExchangeType.Topic)]
    [InlineData(ExchangeType.Direct)]
    public async Task A_publish_filter_that_changes_the_routing_key_reroutes_the_message(ExchangeType type)
    {
        await using var bus = await StartAsync(b => b
            .AddExchange("orders", type)
            .AddQueue("eu")
            .AddQueue("us")
            .Bind("orders", "eu", "eu")
            .Bind("orders", "us", "us")
            .AddPublishFilter<RegionRewritingPublishFilter>()
            .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "eu"));

        await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { Exchange = "orders", RoutingKey = "us" });
        await bus.IdleAsync();

        var received = bus.Recorder.In("eu").Should().ContainSingle().Subject;
        (received.Envelope.Exchange, received.Envelope.RoutingKey).Should().Be(("orders", "eu"));
        bus.Bus.GetStatistics().GetQueue("us").Enqueued.Should().Be(0);
    }

    [Fact]
    public async Task A_correlation_id_a_publish_filter_sets_is_the_one_the_consumer_sees()
    {
        await using var bus = await StartAsync(b => b
            .AddPublishFilter<ConversationPublishFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Should().ContainSingle().Which.Envelope.CorrelationId.Should().Be(ConversationPublishFilter.Conversation);
    }

    [Fact]
    public async Task A_header_value_a_publish_filter_sets_that_headers_cannot_carry_fails_the_publish_and_nothing_is_accepted()
    {
        await using var bus = await StartAsync(b => b
            .AddPublishFilter<InvalidHeaderPublishFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        var publish = async () => await bus.Publisher.PublishAsync(new Job(1));

        await publish.Should().ThrowAsync<ArgumentException>().WithMessage("*'payload'*");
        await bus.IdleAsync();
        bus.Bus.GetStatistics().GetQueue("jobs").Enqueued.Should().Be(0);
    }

    [Fact]
    public async Task A_publish_filter_that_throws_fails_the_publish_with_its_exception_and_nothing_is_accepted()
    {
        await using var bus = await StartAsync(b => b
            .AddPublishFilter<RefusingPublishFilter>()
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        var publish = async () => await bus.Publisher.PublishAsync(new Job(1));

        var thrown = (await publish.Should().ThrowAsync<InvalidOperationException>()).Which;
        thrown.Should().BeSameAs(bus.Get<RefusingPublishFilter>().Thrown);
        await bus.IdleAsync();
        bus.Recorder.All.Should().BeEmpty();
        bus.Bus.GetStatistics().GetQueue("jobs").Enqueued.Should().Be(0);
    }

    [Fact]
    public async Task A_scoped_publish_filter_used_by_a_consumer_shares_the_consumers_scope()
    {
        await using var bus = await StartAsync(
            b => b
                .AddPublishFilter<TenantPublishFilter>(ServiceLifetime.Scoped)
                .AddConsumer<TenantForwardingConsumer>(c => c.Queue = "jobs")
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"),
            s => s.AddScoped<TenantContext>());

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        var log = bus.Get<TenantLog>();
        log.ConsumerSaw.Keys.Order().Should().Equal(0, 1, 2);
        foreach (var (id, (instance, _)) in log.ConsumerSaw)
        {
            log.FilterSaw[id].Should().BeSameAs(instance, "the consumer's publish resolves the filter from the consumer's scope");
        }

        bus.Recorder.In("orders").Select(r => (((OrderPlaced)r.Message).Id, r.Envelope.Headers["tenant"]))
            .Should().BeEquivalentTo(new[] { (0, (object?)"tenant-0"), (1, "tenant-1"), (2, "tenant-2") });
    }

    [Fact]
    public async Task A_scoped_publish_filter_outside_a_consumer_gets_a_scope_of_its_own_for_each_publish()
    {
        await using var bus = await StartAsync(
            b => b
                .AddPublishFilter<TenantPublishFilter>(ServiceLifetime.Scoped)
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"),
            s => s.AddScoped<TenantContext>());

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Publisher.PublishAsync(new OrderPlaced(2));
        await bus.IdleAsync();

        var log = bus.Get<TenantLog>();
        log.FilterSaw.Keys.Order().Should().Equal(1, 2);
        log.FilterSaw[1].Should().NotBeSameAs(log.FilterSaw[2]);
        bus.Recorder.In("orders").Should().HaveCount(2);
    }

    [Fact]
    public async Task A_scoped_publish_filter_used_by_a_singleton_consumer_gets_a_scope_made_for_each_publish()
    {
        await using var bus = await StartAsync(
            b => b
                .AddPublishFilter<TenantPublishFilter>(ServiceLifetime.Scoped)
                .AddConsumer<SingletonForwardingConsumer>(c =>
                {
                    c.Queue = "jobs";
                    c.Lifetime = ConsumerLifetime.Singleton;
                })
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"),
            s => s.AddScoped<TenantContext>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.IdleAsync();

        bus.Recorder.In("orders").Should().HaveCount(2);
        var log = bus.Get<TenantLog>();
        log.FilterSaw.Keys.Order().Should().Equal(1, 2);
        log.FilterSaw[1].Should().NotBeSameAs(log.FilterSaw[2]);
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(2);
    }

    /// <summary>A singleton: it has no scope of its own, so its publishes get one made for them.</summary>
    public sealed class SingletonForwardingConsumer : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            context.PublishAsync(new OrderPlaced(context.Message.Id), cancellationToken);
    }
}
