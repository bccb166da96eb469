using System.Text.Json;
using Bus.RabbitMQ.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

/// <summary>The bus's topology as the broker holds it: queue options as arguments, exchanges by type, and what fails the start.</summary>
public sealed class BrokerTopologyTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_bounded_queue_that_rejects_is_declared_with_max_length_and_reject_publish()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("reject");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue, q => (q.Capacity, q.FullMode) = (5, QueueFullMode.Reject)));

        var arguments = await vhost.QueueArgumentsAsync(queue);

        arguments["x-max-length"].GetInt32().Should().Be(5);
        arguments["x-overflow"].GetString().Should().Be("reject-publish-dlx");
        arguments.Should().NotContainKey("x-max-priority").And.NotContainKey("x-message-ttl").And.NotContainKey("x-single-active-consumer");
    }

    [Fact]
    public async Task A_bounded_queue_that_drops_its_oldest_is_declared_with_drop_head()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("drop-oldest");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue, q => (q.Capacity, q.FullMode) = (3, QueueFullMode.DropOldest)));

        var arguments = await vhost.QueueArgumentsAsync(queue);

        arguments["x-max-length"].GetInt32().Should().Be(3);
        arguments["x-overflow"].GetString().Should().Be("drop-head");
    }

    [Fact]
    public async Task A_queue_whose_publishers_wait_has_no_length_limit_on_the_broker()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("wait");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue, q => q.Capacity = 7));

        var arguments = await vhost.QueueArgumentsAsync(queue);

        arguments.Should().NotContainKey("x-max-length", "a waiting publisher is the broker's flow control, not a bound")
            .And.NotContainKey("x-overflow");
    }

    [Fact]
    public async Task Priority_and_time_to_live_map_to_max_priority_and_message_ttl()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("priority-ttl");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue, q =>
        {
            q.MaxPriority = 7;
            q.TimeToLive = TimeSpan.FromMilliseconds(1500.2);
        }));

        var arguments = await vhost.QueueArgumentsAsync(queue);

        arguments["x-max-priority"].GetInt32().Should().Be(7);
        arguments["x-message-ttl"].GetInt64().Should().Be(1501, "the time to live rounds up to whole milliseconds");
    }

    [Fact]
    public async Task Every_queue_dead_letters_into_its_own_bounded_dead_letter_queue()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("with-dlq");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .Configure(o => o.DeadLetterCapacity = 250)
            .AddQueue(queue));

        var arguments = await vhost.QueueArgumentsAsync(queue);
        var deadLetterArguments = await vhost.QueueArgumentsAsync($"{queue}.dead-letters");

        arguments["x-dead-letter-exchange"].GetString().Should().BeEmpty("the default exchange routes by queue name");
        arguments["x-dead-letter-routing-key"].GetString().Should().Be($"{queue}.dead-letters");
        deadLetterArguments["x-max-length"].GetInt32().Should().Be(250, "BusOptions.DeadLetterCapacity bounds each dead-letter queue");
        deadLetterArguments["x-overflow"].GetString().Should().Be("drop-head");
    }

    [Fact]
    public async Task A_partitioned_queue_has_a_single_active_consumer()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("partitioned");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddQueue(queue, q => q.PartitionBy<Order, int>(o => o.Id).Concurrency = 4)
            .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));

        var arguments = await vhost.QueueArgumentsAsync(queue);

        arguments["x-single-active-consumer"].GetBoolean().Should().BeTrue("one consumer takes the queue in order; the bus keeps each key in order from there");
    }

    [Fact]
    public async Task Quorum_queues_are_declared_as_quorum_with_their_dead_letter_queues()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("quorum");
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue, q => (q.Capacity, q.FullMode) = (10, QueueFullMode.DropOldest)),
            rabbit: o => o.QueueType = RabbitMqQueueType.Quorum);

        (await vhost.QueueArgumentsAsync(queue))["x-queue-type"].GetString().Should().Be("quorum");
        (await vhost.QueueArgumentsAsync($"{queue}.dead-letters"))["x-queue-type"].GetString().Should().Be("quorum");
    }

    [Fact]
    public async Task Exchanges_of_the_four_built_in_types_are_declared_durable_with_their_type()
    {
        await RabbitMqBroker.RequireAsync();
        var prefix = Names.Unique("ex");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddExchange($"{prefix}.direct", ExchangeType.Direct)
            .AddExchange($"{prefix}.fanout", ExchangeType.Fanout)
            .AddExchange($"{prefix}.topic", ExchangeType.Topic)
            .AddExchange($"{prefix}.headers", ExchangeType.Headers));

        (await vhost.ExchangeAsync($"{prefix}.direct")).Should().Be(("direct", true));
        (await vhost.ExchangeAsync($"{prefix}.fanout")).Should().Be(("fanout", true));
        (await vhost.ExchangeAsync($"{prefix}.topic")).Should().Be(("topic", true));
        (await vhost.ExchangeAsync($"{prefix}.headers")).Should().Be(("headers", true));
    }

    [Fact]
    public async Task Bindings_are_declared_on_the_broker_and_route_there()
    {
        await RabbitMqBroker.RequireAsync();
        var exchange = Names.Unique("topic");
        var eu = Names.Unique("eu");
        var all = Names.Unique("all");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddExchange(exchange, ExchangeType.Topic)
            .AddQueue(eu)
            .AddQueue(all)
            .Bind(exchange, eu, "order.eu.*")
            .Bind(exchange, all, "#"));

        await bus.Bus.PublishAsync(new Order(1), new PublishOptions { Exchange = exchange, RoutingKey = "order.eu.created" });
        await bus.Bus.PublishAsync(new Order(2), new PublishOptions { Exchange = exchange, RoutingKey = "order.us.created" });

        (await vhost.CountReadyViaAmqpAsync(eu)).Should().Be(1);
        (await vhost.CountReadyViaAmqpAsync(all)).Should().Be(2);
    }

    [Fact]
    public async Task A_queue_that_drops_its_newest_fails_the_host_start_naming_the_queue_and_the_mode()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("drop-newest");
        var builder = new HostApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        builder.Services.AddMessageBus(b => b
            .UseRabbitMQ(o => (o.Uri, o.RecoveryInterval) = (vhost.Uri, TimeSpan.FromSeconds(1)))
            .AddQueue(queue, q => q.FullMode = QueueFullMode.DropNewest));
        using var host = builder.Build();

        var start = () => host.StartAsync();

        var failure = (await start.Should().ThrowAsync<OptionsValidationException>()).Which;
        failure.Message.Should().Contain($"Queue '{queue}'").And.Contain("DropNewest").And.Contain("Reject").And.Contain("DropOldest");
        (await vhost.QueueExistsAsync(queue)).Should().BeFalse("nothing is declared before the configuration is valid");
    }

    [Fact]
    public async Task A_queue_that_drops_its_newest_fails_the_bus_when_it_is_resolved_without_a_host()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("drop-newest");
        await using var bus = RabbitBus.Create(vhost, b => b.AddQueue(queue, q => q.FullMode = QueueFullMode.DropNewest));

        var resolve = () => bus.Bus;

        resolve.Should().Throw<OptionsValidationException>().WithMessage($"*Queue '{queue}'*DropNewest*");
    }

    [Fact]
    public async Task A_priority_queue_cannot_be_a_quorum_queue_and_the_start_says_which_queue()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("quorum-priority");
        await using var bus = RabbitBus.Create(
            vhost,
            b => b.AddQueue(queue, q => q.MaxPriority = 5),
            rabbit: o => o.QueueType = RabbitMqQueueType.Quorum);

        // With every other configuration problem, when the bus is first resolved (the host's start validates it).
        var resolve = () => bus.Bus;

        resolve.Should().Throw<OptionsValidationException>()
            .Which.Message.Should().Contain($"Queue '{queue}'").And.Contain("MaxPriority").And.Contain("quorum");
        (await vhost.QueueExistsAsync(queue)).Should().BeFalse();
    }

    [Fact]
    public async Task An_exchange_with_a_routing_strategy_of_the_applications_own_fails_the_start_naming_the_exchange()
    {
        await RabbitMqBroker.RequireAsync();
        var exchange = Names.Unique("custom");
        await using var bus = RabbitBus.Create(vhost, b => b.AddExchange(exchange, new EvenIdsOnly()));

        var resolve = () => bus.Bus;

        resolve.Should().Throw<OptionsValidationException>()
            .Which.Message.Should().Contain($"Exchange '{exchange}'").And.Contain("direct, fanout, topic or headers");
        (await vhost.ExchangeAsync(exchange)).Should().BeNull();
    }

    [Fact]
    public async Task A_queue_already_on_the_broker_with_other_arguments_fails_the_start_with_a_clear_error()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("existing");
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-max-length"] = 10 });
        }

        await using var bus = RabbitBus.Create(vhost, b => b.AddQueue(queue, q => q.MaxPriority = 3));

        var start = () => bus.Bus.StartAsync();

        (await start.Should().ThrowAsync<InvalidOperationException>())
            .Which.Message.Should().Contain($"Queue '{queue}' already exists on the broker with other arguments").And.Contain("PRECONDITION_FAILED");
        bus.Bus.State.Should().Be(BusState.Created);
        (await vhost.QueueArgumentsAsync(queue)).Should().ContainKey("x-max-length").And.NotContainKey("x-max-priority", "the queue on the broker is left as it was");
    }

    [Fact]
    public async Task A_broker_that_cannot_be_reached_fails_the_start_naming_its_address_without_the_password()
    {
        await RabbitMqBroker.RequireAsync();
        await using var bus = RabbitBus.Create(vhost, b => b.AddQueue(Names.Unique("never")), rabbit: o =>
        {
            o.Uri = new Uri("amqp://guest:s3cret@127.0.0.1:1/nowhere");
            o.PublishTimeout = TimeSpan.FromSeconds(5);
        });

        var start = () => bus.Bus.StartAsync();

        var failure = (await start.Should().ThrowAsync<TransportUnavailableException>()).Which;
        failure.Message.Should().Contain("amqp://127.0.0.1:1/nowhere").And.NotContain("s3cret");
        bus.Bus.State.Should().Be(BusState.Created);
    }

    /// <summary>A routing strategy of the application's own: it runs in process only.</summary>
    private sealed class EvenIdsOnly : IRoutingStrategy
    {
        public string? Validate(Binding binding) => null;

        public bool IsMatch(Binding binding, in RoutingContext message) => true;
    }
}
