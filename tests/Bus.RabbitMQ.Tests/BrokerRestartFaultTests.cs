using System.Diagnostics;
using Bus.RabbitMQ.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// The broker restarts under a bus that publishes and consumes: it runs alone (<see cref="BrokerRestartCollection"/>),
/// since a restart drops every connection on the broker.
/// </summary>
[Collection(BrokerRestartCollection.Name)]
public sealed class BrokerRestartFaultTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_broker_restart_mid_stream_loses_no_confirmed_message_and_consumers_resume()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("restarted");
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue, q => (q.Concurrency, q.PrefetchCount) = (2, 8)).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            rabbit: o => o.PublishTimeout = TimeSpan.FromSeconds(20));
        var stream = new PublishStream(bus.Bus, queue, publishers: 2, breakAfter: 100);

        // The stream runs through the restart, and 100 more after it.
        var publishing = stream.RunAsync();
        await stream.Halfway;
        var completedAtRestart = stream.Completed.Count;
        var restarting = Stopwatch.GetTimestamp();
        await vhost.RestartBrokerAppAsync();
        var outage = Stopwatch.GetElapsedTime(restarting);
        stream.StopAfter(100);
        await publishing.WaitAsync(BrokerVhost.Timeout);
        var count = stream.Attempted;

        stream.LongestPublish.Should().BeGreaterThan(TimeSpan.FromSeconds(1), "publishes were waiting while the broker was down");
        stream.Failed.Values.Where(e => e is not TransportUnavailableException).Should().BeEmpty("a publish during the outage waits for the broker, or throws that it is unavailable");
        var confirmed = stream.Completed.ToHashSet();
        var consumed = await bus.Probe.Consumed.WhenAsync(
            all => confirmed.IsSubsetOf(all.Select(o => ((Order)o.Message).Id)),
            what: "every confirmed message consumed");
        var ids = consumed.Select(o => ((Order)o.Message).Id).ToList();
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"published {count}: {confirmed.Count} confirmed, {stream.Failed.Count} failed ({string.Join(", ", stream.Failed.Values.Select(e => e.GetType().Name).Distinct())}); " +
            $"{completedAtRestart} confirmed when the restart began; restart took {outage.TotalSeconds:F1} s; longest publish {stream.LongestPublish.TotalSeconds:F1} s; consumed {ids.Count} ({ids.Distinct().Count()} distinct, " +
            $"{ids.Count - ids.Distinct().Count()} duplicates, {consumed.Count(o => o.DeliveryCount > 1)} redelivered), {ids.Except(confirmed).Count()} consumed without a confirm");
        confirmed.Except(ids).Should().BeEmpty("no confirmed message is lost");

        // Consumers resumed: a message sent now is consumed.
        await bus.Bus.SendAsync(queue, new Order(count + 1));
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order o1 && o1.Id == count + 1);
        bus.Logs.AtLeast(LogLevel.Error).Should().BeEmpty();
        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
    }
}
