using System.Text;
using Bus.RabbitMQ.Tests.Support;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// Messages cross the broker as bytes: what the bus cannot read (published by something else) is dead-lettered with its
/// reason and kept as it arrived, and the type travels by name in the AMQP <c>type</c> property.
/// </summary>
public sealed class BrokerSerializationTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_message_of_a_type_the_bus_does_not_know_is_dead_lettered_with_its_body_and_never_consumed()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("unknown-type");
        var behaviour = new Behaviour<Order>((_, _) => ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue), s => s.AddSingleton(behaviour));
        var body = Encoding.UTF8.GetBytes("{\"Id\":1,\"Kind\":\"from another service\"}");
        await using var connection = await vhost.ConnectAsync();

        await BrokerApi.PublishRawAsync(connection, queue, new BasicProperties { Type = "Other.Service.Invoice", MessageId = Guid.NewGuid().ToString(), Persistent = true }, body);

        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        deadLetter.Reason.Should().Be(DeadLetterReason.UnknownMessageType);
        deadLetter.Description.Should().Contain("Other.Service.Invoice");
        deadLetter.Queue.Should().Be(queue);
        behaviour.Calls.All.Should().BeEmpty("a type name from outside is never resolved to anything the bus does not know");
        var stored = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        stored.Reason.Should().Be(DeadLetterReason.UnknownMessageType);
        stored.Message.Should().BeOfType<byte[]>().Which.Should().Equal(body);
        var raw = (await vhost.PeekAllAsync(connection, $"{queue}.dead-letters")).Should().ContainSingle().Subject;
        raw.Body.ToArray().Should().Equal(body, "the dead letter keeps the body byte for byte");
        raw.BasicProperties.Type.Should().Be("Other.Service.Invoice", "and the type name it came with");
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0, "the delivery was acknowledged once dead-lettered");
    }

    [Fact]
    public async Task A_body_that_does_not_read_as_its_type_is_dead_lettered_as_malformed()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("malformed");
        var behaviour = new Behaviour<Order>((_, _) => ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue), s => s.AddSingleton(behaviour));
        var body = Encoding.UTF8.GetBytes("<order id=\"1\"/>");
        await using var connection = await vhost.ConnectAsync();

        await BrokerApi.PublishRawAsync(connection, queue, new BasicProperties { Type = typeof(Order).FullName }, body);

        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        deadLetter.Reason.Should().Be(DeadLetterReason.Malformed);
        deadLetter.Description.Should().Contain(typeof(Order).FullName);
        behaviour.Calls.All.Should().BeEmpty();
        var stored = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue, Reason = DeadLetterReason.Malformed })).Should().ContainSingle().Subject;
        stored.Message.Should().BeOfType<byte[]>().Which.Should().Equal(body);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_dead_lettered_as_too_large()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("too-large");
        var behaviour = new Behaviour<Blob>((_, _) => ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.Configure(o => o.MaxMessageSize = 64).AddQueue(queue).AddConsumer<TestConsumer<Blob>>(c => c.Queue = queue),
            s => s.AddSingleton(behaviour));
        var body = Encoding.UTF8.GetBytes($"{{\"Data\":\"{new string('x', 200)}\"}}");
        await using var connection = await vhost.ConnectAsync();

        await BrokerApi.PublishRawAsync(connection, queue, new BasicProperties { Type = typeof(Blob).FullName }, body);

        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        deadLetter.Reason.Should().Be(DeadLetterReason.TooLarge);
        deadLetter.Description.Should().Contain($"{body.Length} bytes").And.Contain("64");
        behaviour.Calls.All.Should().BeEmpty();
    }

    [Fact]
    public async Task Publishing_a_message_over_the_size_limit_throws_and_sends_nothing()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("fanout"), Names.Unique("unconsumed"));
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .Configure(o => o.MaxMessageSize = 64)
            .AddExchange(exchange, ExchangeType.Fanout)
            .AddQueue(queue)
            .Bind(exchange, queue));

        var publish = () => bus.Bus.PublishAsync(new Blob(new string('x', 100)), new PublishOptions { Exchange = exchange }).AsTask();
        var send = () => bus.Bus.SendAsync(queue, new Blob(new string('y', 100))).AsTask();

        (await publish.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("MaxMessageSize");
        await send.Should().ThrowAsync<ArgumentException>();
        await bus.Bus.PublishAsync(new Blob("small"), new PublishOptions { Exchange = exchange });
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(1, "only the message within the limit reached the broker");
        bus.Probe.Published.Count.Should().Be(1);
    }

    [Fact]
    public async Task Poison_messages_among_good_ones_are_dead_lettered_and_every_good_one_is_consumed()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("poison");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddQueue(queue, q => (q.Concurrency, q.PrefetchCount) = (2, 4))
            .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        await using var connection = await vhost.ConnectAsync();

        for (var id = 1; id <= 30; id++)
        {
            if (id % 3 == 0)
            {
                await BrokerApi.PublishRawAsync(connection, queue, new BasicProperties { Type = id % 2 == 0 ? "Nobody.Knows" : typeof(Order).FullName }, Encoding.UTF8.GetBytes($"poison {id}"));
            }
            else
            {
                await bus.Bus.SendAsync(queue, new Order(id));
            }
        }

        var consumed = await bus.Probe.Consumed.WhenCountAsync(20);
        var deadLetters = await bus.Probe.DeadLettered.WhenCountAsync(10);
        consumed.Select(o => ((Order)o.Message).Id).Should().BeEquivalentTo(Enumerable.Range(1, 30).Where(id => id % 3 != 0));
        deadLetters.GroupBy(d => d.Reason).ToDictionary(g => g.Key, g => g.Count())
            .Should().BeEquivalentTo(new Dictionary<DeadLetterReason, int> { [DeadLetterReason.UnknownMessageType] = 5, [DeadLetterReason.Malformed] = 5 });
        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(10);
    }

    [Fact]
    public async Task The_type_travels_in_the_AMQP_type_property_as_its_message_type_name_or_its_full_name()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("wire");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue));
        var correlationId = Guid.NewGuid();

        await bus.Bus.SendAsync(queue, new Shipped(1), new PublishOptions { CorrelationId = correlationId, Headers = new Dictionary<string, object?> { ["tenant"] = "acme" } });
        await bus.Bus.SendAsync(queue, new Order(2));

        await using var connection = await vhost.ConnectAsync();
        var messages = await vhost.PeekAllAsync(connection, queue);
        messages.Should().HaveCount(2);
        var named = messages[0].BasicProperties;
        named.Type.Should().Be("bus-tests.shipped");
        named.ContentType.Should().Be("application/json");
        named.Persistent.Should().BeTrue();
        named.CorrelationId.Should().Be(correlationId.ToString());
        Guid.TryParse(named.MessageId, out _).Should().BeTrue();
        named.Header("tenant").Should().Be("acme");
        Encoding.UTF8.GetString(messages[0].Body.Span).Should().Be("{\"Id\":1}");
        messages[1].BasicProperties.Type.Should().Be(typeof(Order).FullName);
    }
}
