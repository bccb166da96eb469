using Bus.Tests.Support;

namespace Bus.Tests.Monitoring;

public sealed class BusMonitorTests
{
    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder> configure) =>
        TestBus.StartAsync(configure, s => s.AddSingleton<Gate>());

    private static BusSnapshot Read(TestBus bus) => bus.Get<IBusMonitor>().GetSnapshot();

    private static async Task PublishJobsAsync(TestBus bus, int from, int count)
    {
        for (var i = from; i < from + count; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }
    }

    [Fact]
    public async Task A_queue_whose_consumers_are_all_busy_shows_them_busy_the_taken_messages_in_flight_and_the_rest_waiting()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<GatedConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.QueueOptions.Concurrency = 2;
                c.QueueOptions.Capacity = 10;
                c.QueueOptions.FullMode = QueueFullMode.DropOldest;
            }));

        await PublishJobsAsync(bus, 0, 5);
        await bus.Get<Gate>().WhenArrivedAsync(2);

        var queue = Read(bus).GetQueue("jobs");
        (queue.Consumers, queue.ConsumersBusy, queue.ConsumersIdle).Should().Be((2, 2, 0));
        (queue.Depth, queue.InFlight, queue.Capacity, queue.FullMode).Should().Be((3, 2L, 10, QueueFullMode.DropOldest));
        bus.Get<Gate>().Open();
    }

    [Fact]
    public async Task A_queue_with_one_message_being_consumed_shows_one_consumer_busy_and_the_other_idle()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<GatedConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.QueueOptions.Concurrency = 2;
            }));

        await PublishJobsAsync(bus, 0, 1);
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var queue = Read(bus).GetQueue("jobs");
        (queue.ConsumersBusy, queue.ConsumersIdle, queue.InFlight, queue.Depth).Should().Be((1, 1, 1L, 0));
        bus.Get<Gate>().Open();
    }

    [Fact]
    public async Task A_queue_with_nothing_to_do_shows_every_consumer_idle()
    {
        await using var bus = await StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>(c =>
            {
                c.Queue = "jobs";
                c.QueueOptions.Concurrency = 2;
            }));

        await PublishJobsAsync(bus, 0, 4);
        await bus.IdleAsync();

        var queue = Read(bus).GetQueue("jobs");
        (queue.ConsumersBusy, queue.ConsumersIdle, queue.InFlight, queue.Depth).Should().Be((0, 2, 0L, 0));
    }

    [Fact]
    public async Task The_oldest_message_age_is_how_long_the_first_waiting_message_has_waited()
    {
        await using var bus = await StartAsync(b => b.AddQueue("parked").Bind<Job>("parked"));

        await bus.Publisher.PublishAsync(new Job(1));
        Read(bus).GetQueue("parked").OldestMessageAge.Should().Be(TimeSpan.Zero);

        bus.Time.Advance(TimeSpan.FromSeconds(5));
        await bus.Publisher.PublishAsync(new Job(2));
        bus.Time.Advance(TimeSpan.FromSeconds(3));

        Read(bus).GetQueue("parked").OldestMessageAge.Should().Be(TimeSpan.FromSeconds(8));
    }

    [Fact]
    public async Task An_empty_queue_has_no_oldest_message_age()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        await PublishJobsAsync(bus, 0, 3);
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(5));

        Read(bus).GetQueue("jobs").OldestMessageAge.Should().BeNull();
    }

    [Fact]
    public async Task Dead_letters_are_counted_by_reason()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RejectOrThrowConsumer>(c => c.Queue = "jobs"));

        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Reject));
        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Reject));
        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Throw));
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var snapshot = Read(bus);
        snapshot.GetQueue("jobs").DeadLettersByReason.Should().BeEquivalentTo(
            new Dictionary<DeadLetterReason, long> { [DeadLetterReason.Rejected] = 2, [DeadLetterReason.Failed] = 1 });
        snapshot.DeadLetters.Should().Be(3);
    }

    [Fact]
    public async Task Exchanges_are_listed_with_their_type_and_bindings()
    {
        await using var bus = await StartAsync(b => b
            .AddExchange("orders", ExchangeType.Topic)
            .AddExchange("audit", ExchangeType.Fanout)
            .AddExchange("custom", new EverythingStrategy())
            .AddQueue("eu")
            .AddQueue("all")
            .Bind("orders", "eu", "order.eu.*")
            .Bind("orders", "all", "#")
            .Bind("audit", "all")
            .Bind("custom", "all"));

        var exchanges = Read(bus).Exchanges.ToDictionary(e => e.Name);

        (exchanges["orders"].Type, exchanges["orders"].Kind).Should().Be((ExchangeType.Topic, "Topic"));
        exchanges["orders"].Bindings.Should().BeEquivalentTo(new[] { new Binding("orders", "eu", "order.eu.*"), new Binding("orders", "all", "#") });
        (exchanges["audit"].Type, exchanges["audit"].Kind).Should().Be((ExchangeType.Fanout, "Fanout"));
        exchanges["audit"].Bindings.Should().Equal(new Binding("audit", "all"));
        (exchanges["custom"].Type, exchanges["custom"].Kind).Should().Be(((ExchangeType?)null, nameof(EverythingStrategy)));
        exchanges["custom"].Bindings.Should().Equal(new Binding("custom", "all"));
    }

    [Fact]
    public async Task Before_the_start_the_bus_is_created_with_no_uptime()
    {
        await using var bus = TestBus.Create(b => b.AddQueue("jobs"));
        bus.Time.Advance(TimeSpan.FromMinutes(1));

        var snapshot = Read(bus);

        (snapshot.State, snapshot.Uptime, snapshot.StartedAt).Should().Be((BusState.Created, TimeSpan.Zero, (DateTimeOffset?)null));
    }

    [Fact]
    public async Task While_running_the_uptime_is_the_time_since_the_start()
    {
        await using var bus = TestBus.Create(b => b.AddQueue("jobs"));
        var startedAt = bus.Time.GetUtcNow();
        await bus.Bus.StartAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(90));

        var snapshot = Read(bus);

        (snapshot.State, snapshot.Uptime, snapshot.StartedAt).Should().Be((BusState.Running, TimeSpan.FromSeconds(90), (DateTimeOffset?)startedAt));
        snapshot.TakenAt.Should().Be(startedAt + TimeSpan.FromSeconds(90));
    }

    [Fact]
    public async Task After_the_stop_the_uptime_stays_what_it_was_at_the_stop()
    {
        await using var bus = await StartAsync(b => b.AddQueue("jobs"));
        bus.Time.Advance(TimeSpan.FromSeconds(90));
        await bus.Bus.StopAsync().WaitAsync(TestBus.Timeout);
        bus.Time.Advance(TimeSpan.FromHours(1));

        var snapshot = Read(bus);

        (snapshot.State, snapshot.Uptime).Should().Be((BusState.Stopped, TimeSpan.FromSeconds(90)));
    }

    [Fact]
    public async Task The_first_read_gives_rates_averaged_since_the_start()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        await PublishJobsAsync(bus, 0, 40);
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));

        var rates = Read(bus).GetQueue("jobs").Rates;

        rates.Should().Be(new MessageRates(Published: 4.0, Consumed: 4.0, Failed: 0.0, Window: TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_read_at_the_start_has_no_rates_to_give()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        await PublishJobsAsync(bus, 0, 4);
        await bus.IdleAsync();

        Read(bus).GetQueue("jobs").Rates.Should().Be(default(MessageRates));
    }

    [Fact]
    public async Task Later_reads_give_rates_over_the_time_since_the_earlier_read()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        await PublishJobsAsync(bus, 0, 40);
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        Read(bus);

        await PublishJobsAsync(bus, 40, 20);
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        var rates = Read(bus).GetQueue("jobs").Rates;

        rates.Should().Be(new MessageRates(Published: 2.0, Consumed: 2.0, Failed: 0.0, Window: TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task Rates_cover_at_most_the_last_minute()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        await PublishJobsAsync(bus, 0, 100);
        await bus.IdleAsync();
        Read(bus);

        // Ten reads ten seconds apart; only the last minute's 60 messages count.
        for (var i = 0; i < 10; i++)
        {
            bus.Time.Advance(TimeSpan.FromSeconds(10));
            if (i >= 4)
            {
                await PublishJobsAsync(bus, 100 + (10 * i), 10);
                await bus.IdleAsync();
            }

            if (i < 9)
            {
                Read(bus);
            }
        }

        var rates = Read(bus).GetQueue("jobs").Rates;

        (rates.Window, rates.Consumed).Should().Be((TimeSpan.FromMinutes(1), 1.0));
    }

    [Fact]
    public async Task Failed_deliveries_count_in_the_failed_rate_thrown_and_rejected_alike()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RejectOrThrowConsumer>(c => c.Queue = "jobs"));
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        Read(bus);

        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Throw));
        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Throw));
        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Reject));
        await bus.Publisher.PublishAsync(new Job(RejectOrThrowConsumer.Reject));
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        var rates = Read(bus).GetQueue("jobs").Rates;

        rates.Should().Be(new MessageRates(Published: 0.5, Consumed: 0.1, Failed: 0.4, Window: TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public async Task A_deleted_queue_drops_out_of_the_snapshot()
    {
        await using var bus = await StartAsync(b => b.AddQueue("kept").AddQueue("temporary").Bind<Job>("temporary"));
        await bus.Publisher.PublishAsync(new Job(1));
        Read(bus).Queues.Select(q => q.Name).Should().BeEquivalentTo("kept", "temporary");

        await bus.Bus.Topology.DeleteQueueAsync("temporary").WaitAsync(TestBus.Timeout);

        var snapshot = Read(bus);
        snapshot.Queues.Select(q => q.Name).Should().Equal("kept");
        snapshot.Invoking(s => s.GetQueue("temporary")).Should().Throw<KeyNotFoundException>();
    }

    /// <summary>Rejects job -1, throws on job -2 (no retries by default), consumes the rest.</summary>
    public sealed class RejectOrThrowConsumer : IConsumer<Job>
    {
        public const int Reject = -1;
        public const int Throw = -2;

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            switch (context.Message.Id)
            {
                case Reject:
                    context.Reject("malformed");
                    break;
                case Throw:
                    throw new InvalidOperationException("broken");
            }

            return default;
        }
    }

    /// <summary>A user's routing strategy: every binding matches.</summary>
    public sealed class EverythingStrategy : IRoutingStrategy
    {
        public string? Validate(Binding binding) => null;

        public bool IsMatch(Binding binding, in RoutingContext message) => true;
    }
}
