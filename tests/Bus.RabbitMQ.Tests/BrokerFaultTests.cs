using Bus.RabbitMQ.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// Failures against the real broker: connections dropped under load, a consumer's process dying with deliveries
/// unacknowledged, a graceful stop with messages in flight. At least once: nothing confirmed is lost; duplicates are
/// counted.
/// </summary>
public sealed class BrokerFaultTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    [Fact]
    public async Task Every_message_confirmed_across_a_dropped_connection_is_consumed_and_consuming_resumes()
    {
        await RabbitMqBroker.RequireAsync();
        const int Count = 500;
        var queue = Names.Unique("dropped");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .AddQueue(queue, q => (q.Concurrency, q.PrefetchCount) = (4, 8))
            .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        await vhost.WaitForConnectionsAsync(bus.ConnectionName, atLeast: 2);
        var stream = new PublishStream(bus.Bus, queue, publishers: 4, breakAfter: 100);

        var publishing = stream.RunAsync(Count);
        await stream.Halfway;
        var closed = await vhost.CloseConnectionsAsync(bus.ConnectionName, atLeast: 2);
        var completedAtClose = stream.Completed.Count;
        await publishing.WaitAsync(BrokerVhost.Timeout);

        closed.Should().Be(2, "the publishing and the consuming connection");
        completedAtClose.Should().BeLessThan(Count, "the connections dropped in the middle of the stream");
        stream.Failed.Values.Where(e => e is not TransportUnavailableException).Should().BeEmpty("a publish either completes or throws that it could not");
        var confirmed = stream.Completed.ToHashSet();
        var consumed = await bus.Probe.Consumed.WhenAsync(
            all => confirmed.IsSubsetOf(all.Select(o => ((Order)o.Message).Id)),
            what: "every confirmed message consumed");
        var ids = consumed.Select(o => ((Order)o.Message).Id).ToList();
        var duplicates = ids.Count - ids.Distinct().Count();
        Report($"published {Count}: {confirmed.Count} confirmed, {stream.Failed.Count} failed; {completedAtClose} confirmed when the connections were closed; longest publish {stream.LongestPublish.TotalMilliseconds:F0} ms; consumed {ids.Count} ({ids.Distinct().Count()} distinct, {duplicates} duplicates, {consumed.Count(o => o.DeliveryCount > 1)} redelivered)");
        confirmed.Except(ids).Should().BeEmpty("no confirmed message is lost");
        bus.Logs.Lines.Should().Contain(l => l.EventId == 1000, "the transport logged the lost connection").And.Contain(l => l.EventId == 1001);
        bus.Logs.AtLeast(LogLevel.Error).Should().BeEmpty();

        // Consuming resumed: a message sent now is consumed.
        await bus.Bus.SendAsync(queue, new Order(Count + 1));
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: Count + 1 });
    }

    [Theory]
    [InlineData(RabbitMqQueueType.Classic)]
    [InlineData(RabbitMqQueueType.Quorum)]
    public async Task Deliveries_a_dead_consumer_held_unacknowledged_are_redelivered_to_a_survivor_as_second_deliveries(RabbitMqQueueType queueType)
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique($"orphaned-{queueType}".ToLowerInvariant());
        var gate = new Gate();
        var stuck = new Behaviour<Order>((_, cancellationToken) => new ValueTask(gate.PassAsync(cancellationToken)));
        var doomed = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue, q => q.PrefetchCount = 4).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(stuck),
            o => o.QueueType = queueType);
        for (var id = 1; id <= 4; id++)
        {
            await doomed.Bus.SendAsync(queue, new Order(id));
        }

        await gate.WhenArrivedAsync(1);
        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync(queue) == 0, "all four delivered to the first bus, unacknowledged");
        var survivor = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue, q => q.PrefetchCount = 4).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            rabbit: o => o.QueueType = queueType);
        await using var _ = survivor;

        // The first bus dies: the broker sees its connections drop, and the process never runs again (disposed at
        // once, its consumer never let through the gate; its cancelled token is all it sees).
        await vhost.CloseConnectionsAsync(doomed.ConnectionName, atLeast: 2);
        await doomed.Bus.DisposeAsync();
        await doomed.Services.DisposeAsync();

        var consumed = await survivor.Probe.Consumed.WhenCountAsync(4);
        consumed.Select(o => ((Order)o.Message).Id).Should().BeEquivalentTo([1, 2, 3, 4]);
        consumed.Should().OnlyContain(o => o.DeliveryCount == 2, "a classic queue flags a redelivery, a quorum queue counts it (x-delivery-count), and either counts one more delivery");
        gate.Arrived.Should().Be(1, "the dead bus started one message and no other");
        doomed.Probe.Consumed.All.Should().BeEmpty();
        doomed.Probe.DeadLettered.All.Should().BeEmpty("what the broker took back is not the dead bus's to dead-letter");
        (await survivor.StopAsync()).Unprocessed.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(0);
    }

    [Fact]
    public async Task A_graceful_stop_finishes_what_it_was_handed_and_leaves_the_rest_in_the_broker_for_the_next_instance()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("handover");
        var gate = new Gate();
        var slowFirst = new Behaviour<Order>((context, _) => context.Message.Id == 1 ? new ValueTask(gate.PassAsync()) : ValueTask.CompletedTask);
        var first = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue, q => q.PrefetchCount = 5).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(slowFirst));
        for (var id = 1; id <= 10; id++)
        {
            await first.Bus.SendAsync(queue, new Order(id));
        }

        await gate.WhenArrivedAsync(1);
        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync(queue) == 5, "five handed to the first bus (its prefetch)");

        var stopping = first.Bus.StopAsync();
        gate.Open();
        var report = await stopping.WaitAsync(BrokerVhost.Timeout);
        await first.DisposeAsync();

        report.Unprocessed.Should().BeEmpty();
        var firstIds = first.Probe.Consumed.All.Select(o => ((Order)o.Message).Id).ToList();
        firstIds.Should().Contain([1, 2, 3, 4, 5], "the stop drained what the broker had handed over, the message in flight first").And.OnlyHaveUniqueItems();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be((uint)(10 - firstIds.Count), "the rest never left the broker, and nothing consumed came back");
        await using var second = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        var secondIds = (await second.Probe.Consumed.WhenCountAsync(10 - firstIds.Count)).Select(o => ((Order)o.Message).Id).ToList();
        (await second.StopAsync()).Unprocessed.Should().BeEmpty();
        Report($"the stopping bus consumed {firstIds.Count}, the next one {second.Probe.Consumed.Count}");
        firstIds.Concat(second.Probe.Consumed.All.Select(o => ((Order)o.Message).Id)).Should().BeEquivalentTo(Enumerable.Range(1, 10), "each message once, none lost");
        secondIds.Should().NotContain(firstIds);
    }

    [Fact]
    public async Task A_stop_whose_drain_runs_out_finishes_the_message_in_flight_and_requeues_the_prefetched_ones()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("requeued");
        var gate = new Gate();

        // The consumer of message 1 finishes its work when the stop cancels its token (the drain ran out), and returns.
        var slowFirst = new Behaviour<Order>(async (context, cancellationToken) =>
        {
            if (context.Message.Id == 1)
            {
                try
                {
                    await gate.PassAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                }
            }
        });
        var first = await RabbitBus.StartAsync(
            vhost,
            b => b.Configure(o => o.StopTimeout = TimeSpan.FromMilliseconds(300))
                .AddQueue(queue, q => q.PrefetchCount = 5)
                .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(slowFirst));
        for (var id = 1; id <= 10; id++)
        {
            await first.Bus.SendAsync(queue, new Order(id));
        }

        await gate.WhenArrivedAsync(1);
        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync(queue) == 5, "five handed to the first bus (its prefetch)");

        var report = await first.StopAsync();
        await first.DisposeAsync();

        report.Unprocessed.Should().BeEmpty("a broker keeps what the stop gave back: nothing is left to report");
        first.Probe.Consumed.All.Should().ContainSingle().Which.Message.Should().Be(new Order(1), "the message in flight finished and was acknowledged");
        first.Probe.DeadLettered.All.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(9, "the four prefetched went back to the broker, beside the five it kept");
        await using var second = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        var consumed = await second.Probe.Consumed.WhenCountAsync(9);
        (await second.StopAsync()).Unprocessed.Should().BeEmpty();
        second.Probe.Consumed.All.Select(o => ((Order)o.Message).Id).Should().BeEquivalentTo(Enumerable.Range(2, 9), "each once, and not the one the first bus acknowledged");
        consumed.Where(o => ((Order)o.Message).Id <= 5).Should().OnlyContain(o => o.DeliveryCount == 2, "the prefetched ones were delivered before");
        consumed.Where(o => ((Order)o.Message).Id > 5).Should().OnlyContain(o => o.DeliveryCount == 1);
    }
}
