using System.Collections.Concurrent;
using System.Diagnostics;
using Bus.RabbitMQ.Tests.Support;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// The tests that listen to the bus's <see cref="ActivitySource"/>: it is static and shared by every bus in the process,
/// so they run alone (a listener sends every bus's publishes down the observed path).
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BusActivitySourceCollection
{
    public const string Name = "Bus ActivitySource over RabbitMQ";
}

/// <summary>The W3C trace context crosses the broker in the AMQP headers: one trace from a publish in one process to its consumer in another.</summary>
[Collection(BusActivitySourceCollection.Name)]
public sealed class BrokerTraceContextTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    private static readonly ActivitySource s_tests = new("Bus.RabbitMQ.Tests");

    [Fact]
    public async Task A_publish_in_one_bus_and_its_consumption_in_another_share_one_trace()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("traced"), Names.Unique("tracing"));
        await using var consumer = await RabbitBus.StartAsync(vhost, b => b
            .AddExchange(exchange, ExchangeType.Fanout)
            .AddQueue(queue)
            .Bind(exchange, queue)
            .AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        await using var publisher = await RabbitBus.StartAsync(vhost, b => b.AddExchange(exchange, ExchangeType.Fanout));
        var ended = new Events<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is BusDiagnostics.SourceName or "Bus.RabbitMQ.Tests",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = ended.Add,
        };
        ActivitySource.AddActivityListener(listener);
        Activity.Current = null;
        using var root = s_tests.StartActivity("test")!;

        await publisher.Bus.PublishAsync(new Order(1), new PublishOptions { Exchange = exchange });
        var spans = await ended.WhenAsync(all => all.Any(a => a.Kind == ActivityKind.Consumer && a.TraceId == root.TraceId), what: "the consumer's span");

        var publish = spans.Single(a => a.Kind == ActivityKind.Producer && a.TraceId == root.TraceId);
        var process = spans.Single(a => a.Kind == ActivityKind.Consumer && a.TraceId == root.TraceId);
        publish.ParentSpanId.Should().Be(root.SpanId);
        process.ParentSpanId.Should().Be(publish.SpanId, "the consuming bus continues the context the message carried");
        process.HasRemoteParent.Should().BeTrue();
        process.DisplayName.Should().Be($"process {queue}");
        consumer.Probe.Consumed.All.Should().ContainSingle().Which.Envelope.Headers["traceparent"].Should().Be(publish.Id, "traceparent travels in the AMQP headers");
    }

    [Fact]
    public async Task The_trace_context_travels_as_an_AMQP_header_of_the_message()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("traced");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue));
        var ended = new ConcurrentQueue<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is BusDiagnostics.SourceName or "Bus.RabbitMQ.Tests",
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = ended.Enqueue,
        };
        ActivitySource.AddActivityListener(listener);
        Activity.Current = null;
        using var root = s_tests.StartActivity("test")!;

        await bus.Bus.SendAsync(queue, new Order(1));

        var send = ended.Single(a => a.Kind == ActivityKind.Producer && a.TraceId == root.TraceId);
        await using var connection = await vhost.ConnectAsync();
        var message = (await vhost.PeekAllAsync(connection, queue)).Should().ContainSingle().Subject;
        message.BasicProperties.Header("traceparent").Should().Be(send.Id).And.StartWith($"00-{root.TraceId}-");
    }
}
