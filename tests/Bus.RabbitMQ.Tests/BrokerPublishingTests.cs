using System.Text;
using Bus.RabbitMQ.Tests.Support;

namespace Bus.RabbitMQ.Tests;

/// <summary>Publishing to the broker: a publish completes on the confirm, and the broker's refusals reach the publisher.</summary>
public sealed class BrokerPublishingTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_publish_completes_only_once_the_broker_has_the_message()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("direct"), Names.Unique("unconsumed"));
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddExchange(exchange, ExchangeType.Direct)
            .AddQueue(queue)
            .Bind(exchange, queue, "orders"));

        await bus.Bus.PublishAsync(new Order(1), new PublishOptions { Exchange = exchange, RoutingKey = "orders" });
        var countAfterOne = await vhost.CountReadyViaAmqpAsync(queue);
        await Task.WhenAll(Enumerable.Range(2, 49).Select(id =>
            bus.Bus.PublishAsync(new Order(id), new PublishOptions { Exchange = exchange, RoutingKey = "orders" }).AsTask()));

        countAfterOne.Should().Be(1, "the publish returned on the broker's confirm");
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(50);
        bus.Probe.Published.Count.Should().Be(50);
    }

    [Fact]
    public async Task A_send_to_a_queue_completes_once_the_queue_has_the_message()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("send-target");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue));

        await bus.Bus.SendAsync(queue, new Order(1));

        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(1);
    }

    [Fact]
    public async Task A_mandatory_publish_that_no_binding_routes_throws_unroutable()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("direct"), Names.Unique("bound"));
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddExchange(exchange, ExchangeType.Direct)
            .AddQueue(queue)
            .Bind(exchange, queue, "bound-key"));

        var publish = () => bus.Bus.PublishAsync(new Order(1), new PublishOptions { Exchange = exchange, RoutingKey = "no-such-key", Mandatory = true }).AsTask();

        var unroutable = (await publish.Should().ThrowAsync<UnroutableMessageException>()).Which;
        (unroutable.Exchange, unroutable.RoutingKey, unroutable.MessageType).Should().Be((exchange, "no-such-key", typeof(Order)));
        bus.Probe.Unroutable.All.Should().ContainSingle();
        bus.Bus.GetStatistics().Unroutable.Should().Be(1);
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
    }

    [Fact]
    public async Task A_publish_that_is_not_mandatory_and_routes_nowhere_completes_and_is_counted_unroutable()
    {
        await RabbitMqBroker.RequireAsync();
        var exchange = Names.Unique("direct");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddExchange(exchange, ExchangeType.Direct));

        await bus.Bus.PublishAsync(new Order(1), new PublishOptions { Exchange = exchange, RoutingKey = "nobody" });

        bus.Probe.Unroutable.All.Should().ContainSingle().Which.Message.Should().Be(new Order(1));
        bus.Probe.Published.All.Should().BeEmpty();
        bus.Bus.GetStatistics().Unroutable.Should().Be(1);
    }

    [Fact]
    public async Task A_send_to_a_queue_the_broker_does_not_have_throws_unroutable_naming_the_queue()
    {
        await RabbitMqBroker.RequireAsync();
        var missing = Names.Unique("missing");
        await using var bus = await RabbitBus.StartAsync(vhost, _ => { });

        var send = () => bus.Bus.SendAsync(missing, new Order(1)).AsTask();

        (await send.Should().ThrowAsync<UnroutableMessageException>()).Which.Message.Should().Contain($"'{missing}'");
        (await vhost.QueueExistsAsync(missing)).Should().BeFalse("a send does not declare its queue");

        // The channel the broker returned the message on is still usable.
        var queue = Names.Unique("after");
        bus.Bus.Topology.DeclareQueue(queue, new QueueOptions());
        await bus.Bus.SendAsync(queue, new Order(2));
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(1);
    }

    [Fact]
    public async Task A_full_queue_that_rejects_refuses_the_next_publish_and_keeps_the_earlier_messages()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("reject");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue, q => (q.Capacity, q.FullMode) = (3, QueueFullMode.Reject)));
        for (var id = 1; id <= 3; id++)
        {
            await bus.Bus.SendAsync(queue, new Order(id));
        }

        var fourth = () => bus.Bus.SendAsync(queue, new Order(4)).AsTask();

        var full = (await fourth.Should().ThrowAsync<QueueFullException>()).Which;
        (full.Queue, full.MessageType).Should().Be((queue, typeof(Order)));
        await using var connection = await vhost.ConnectAsync();
        var kept = await vhost.PeekAllAsync(connection, queue);
        kept.Select(m => Encoding.UTF8.GetString(m.Body.Span)).Should().Equal("{\"Id\":1}", "{\"Id\":2}", "{\"Id\":3}");
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(1, "the broker keeps a refused publish in the dead-letter queue too (reject-publish-dlx), so a retry returning to a full queue is never dropped");


        // The broker's nack leaves the publishing channels open: the next publishes go through.
        var other = Names.Unique("other");
        bus.Bus.Topology.DeclareQueue(other, new QueueOptions());
        for (var id = 5; id <= 8; id++)
        {
            await bus.Bus.SendAsync(other, new Order(id));
        }

        (await vhost.CountReadyViaAmqpAsync(other)).Should().Be(4);
    }

    [Fact]
    public async Task A_full_queue_that_drops_its_oldest_dead_letters_the_oldest_as_overflow()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("drop-oldest");
        // Declared: the store reads a dead letter as its type only when the bus knows the type (it consumes or declares it).
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .Configure(o => o.AddMessageType<Order>())
            .AddQueue(queue, q => (q.Capacity, q.FullMode) = (2, QueueFullMode.DropOldest)));

        for (var id = 1; id <= 3; id++)
        {
            await bus.Bus.SendAsync(queue, new Order(id));
        }

        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters") == 1, "the broker dead-lettered the dropped message");
        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue, Reason = DeadLetterReason.Overflow })).Should().ContainSingle().Subject;
        deadLetter.Message.Should().Be(new Order(1));
        deadLetter.Description.Should().Contain("maxlen");
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(2);
        await using var connection = await vhost.ConnectAsync();
        (await vhost.PeekAllAsync(connection, queue)).Select(m => Encoding.UTF8.GetString(m.Body.Span)).Should().Equal("{\"Id\":2}", "{\"Id\":3}");
    }
}
