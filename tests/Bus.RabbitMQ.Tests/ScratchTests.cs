using Bus.RabbitMQ.Tests.Support;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

public sealed class ScratchTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_failed_start_leaves_no_connection_open_once_the_bus_is_disposed()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("existing");
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, new Dictionary<string, object?> { ["x-max-length"] = 10 });
        }

        var bus = RabbitBus.Create(vhost, b => b.AddQueue(queue));
        var transport = bus.Get<RabbitMqTransport>();
        var start = () => bus.Bus.StartAsync();
        await start.Should().ThrowAsync<InvalidOperationException>();
        var openAfterFailedStart = (transport.Connections.Publish.IsOpen, transport.Connections.Consume.IsOpen);
        openAfterFailedStart.Should().Be((true, true), "check");

        await bus.DisposeAsync();
        await vhost.WaitForConnectionsAsync(bus.ConnectionName, 2);

        transport.Connections.Publish.IsOpen.Should().BeFalse("the container disposed the transport");
        transport.Connections.Consume.IsOpen.Should().BeFalse("the container disposed the transport");
    }

    [Fact]
    public async Task Replaying_the_older_of_two_dead_letters_of_a_queue_delivers_it()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("replay-two");
        var fixedNow = false;
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(new Behaviour<Order>((context, _) => Volatile.Read(ref fixedNow) ? ValueTask.CompletedTask : throw new InvalidOperationException($"order {context.Message.Id} failed"))));
        await bus.Bus.SendAsync(queue, new Order(1));
        await bus.Bus.SendAsync(queue, new Order(2));
        await bus.Probe.DeadLettered.WhenCountAsync(2);
        var first = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Single(d => d.Message is Order { Id: 1 });
        Volatile.Write(ref fixedNow, true);

        var replayed = await bus.Bus.ReplayAsync(first.Id);

        replayed.Should().BeTrue();
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 1 });
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Which.Message.Should().Be(new Order(2));
    }
}
