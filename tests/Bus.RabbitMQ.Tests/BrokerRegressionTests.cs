using System.Text;
using Bus.RabbitMQ.Tests.Support;
using Bus.Testing;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

/// <summary>Regression tests for defects the broker tests found: each failed before its fix.</summary>
public sealed class BrokerRegressionTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    // Bug 1: RabbitMqDeadLetterStore.RemoveAsync reports false when the removed dead letter is not the last one in its
    // dead-letter queue, after it has acknowledged (removed) it; DeadLetterReplay then returns false without publishing:
    // the dead letter is gone from the store and never delivered.
    [Fact]
    public async Task Replaying_the_older_of_two_dead_letters_of_a_queue_delivers_it_and_keeps_the_other()
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
        var older = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Single(d => d.Message is Order { Id: 1 });
        Volatile.Write(ref fixedNow, true);

        var replayed = await bus.Bus.ReplayAsync(older.Id);

        var left = await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue });
        TestContext.Current.TestOutputHelper!.WriteLine($"replayed: {replayed}; left in the store: [{string.Join(", ", left.Select(d => d.Message))}]; consumed: {bus.Probe.Consumed.Count}");
        replayed.Should().BeTrue();
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 1 });
        left.Should().ContainSingle().Which.Message.Should().Be(new Order(2));
    }

    // Bug 1, by query: replaying every dead letter of a queue delivers the newest and loses the others.
    [Fact]
    public async Task Replaying_every_dead_letter_of_a_queue_after_a_fix_delivers_them_all()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("replay-all");
        var fixedNow = false;
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(new Behaviour<Order>((context, _) => Volatile.Read(ref fixedNow) ? ValueTask.CompletedTask : throw new InvalidOperationException("down"))));
        for (var id = 1; id <= 5; id++) await bus.Bus.SendAsync(queue, new Order(id));
        await bus.Probe.DeadLettered.WhenCountAsync(5);
        Volatile.Write(ref fixedNow, true);

        var replayed = await bus.Bus.ReplayAsync(new DeadLetterQuery { Queue = queue });

        var left = await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue });
        await bus.StopAsync();
        TestContext.Current.TestOutputHelper!.WriteLine($"replayed {replayed} of 5; consumed [{string.Join(", ", bus.Probe.Consumed.All.Select(o => ((Order)o.Message).Id))}]; left in the store {left.Count}");
        replayed.Should().Be(5);
        bus.Probe.Consumed.All.Select(o => ((Order)o.Message).Id).Should().BeEquivalentTo([1, 2, 3, 4, 5]);
    }

    // Bug 2: replaying a dead letter the replaying bus cannot read (unknown type, malformed, too large: its envelope
    // carries the raw byte[]) publishes it through EnvelopeCodec.Encode, which serializes the byte[] as a JSON base64
    // string under the type name "System.Byte[]": the original type name and body are lost.
    [Fact]
    public async Task Replaying_an_unreadable_dead_letter_sends_it_back_as_it_arrived()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("unknown-replay");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        var body = Encoding.UTF8.GetBytes("{\"Id\":1}");
        await using var connection = await vhost.ConnectAsync();
        await BrokerApi.PublishRawAsync(connection, queue, new BasicProperties { Type = "Other.Service.Invoice" }, body);
        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        await bus.StopAsync();

        await using var replayer = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue));
        (await replayer.Bus.ReplayAsync(deadLetter.Id, queue)).Should().BeTrue();

        var replayed = (await vhost.PeekAllAsync(connection, queue)).Should().ContainSingle().Subject;
        TestContext.Current.TestOutputHelper!.WriteLine($"replayed as type '{replayed.BasicProperties.Type}', body {Encoding.UTF8.GetString(replayed.Body.Span)}");
        replayed.BasicProperties.Type.Should().Be("Other.Service.Invoice");
        replayed.Body.ToArray().Should().Equal(body);
    }

    // Bug 3: BusTestHarness without KeepTransport replaces the transport with the in-memory one but leaves the
    // RabbitMqDeadLetterStore that UseRabbitMQ registered; every dead letter then fails ("The RabbitMQ transport has not
    // started"), is logged critical (event 29) and kept as unprocessed, and DeadLettered<T>() stays empty.
    [Fact]
    public async Task A_harness_test_with_UseRabbitMQ_in_its_configuration_still_sees_dead_letters_in_memory()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("harness");
        await using var harness = await BusTestHarness.StartAsync(
            bus => bus
                .UseRabbitMQ(o => o.Uri = vhost.Uri)
                .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            services => services.AddSingleton(new Behaviour<Order>((_, _) => throw new InvalidOperationException("fails"))));

        await harness.Bus.SendAsync(queue, new Order(1));
        await harness.WaitUntilIdleAsync();

        TestContext.Current.TestOutputHelper!.WriteLine($"store: {harness.DeadLetterStore.GetType().Name}; unprocessed: {harness.Bus.GetStatistics().Queues.Single(q => q.Name == queue).Unprocessed}");
        harness.Faulted<Order>().Should().ContainSingle();
        harness.DeadLettered<Order>().Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.Failed);
        (await harness.DeadLetterStore.QueryAsync()).Should().ContainSingle();
    }
}
