using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Publishing;

public sealed class UnroutableWarningTests
{
    private const int Unroutable = 10;
    private const int NoConsumer = 41;
    private const int NoBinding = 42;
    private const int WarningsFull = 43;

    [Fact]
    public async Task The_first_publish_of_a_type_nobody_consumes_is_a_warning_that_names_the_fix()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        await bus.Publisher.PublishAsync(new Ping(1));

        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == NoConsumer).Which.Should().Match<LogEntry>(e =>
            e.Level == LogLevel.Warning
            && e.Message.StartsWith($"No queue is bound for {typeof(Ping)} on exchange {typeof(Ping).FullName}: no consumer is registered for it", StringComparison.Ordinal)
            && e.Message.Contains("AddConsumer<TConsumer>()")
            && e.Message.Contains("IConsumer<Ping>"));
    }

    [Fact]
    public async Task Each_exchange_and_message_type_is_warned_about_once_and_logged_at_debug_every_time()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Fanout));

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Ping(i));
            await bus.Publisher.PublishAsync(new Pong(i));
            await bus.Publisher.PublishAsync(new Ping(i), new PublishOptions { Exchange = "events" });
        }

        bus.Logs.Entries.Where(e => e.EventId == NoConsumer).Select(e => e.Message).Should().HaveCount(3)
            .And.ContainSingle(m => m.Contains(nameof(Pong)))
            .And.ContainSingle(m => m.Contains(nameof(Ping)) && m.Contains("exchange events:"));
        bus.Logs.Entries.Where(e => e.EventId == Unroutable).Should().HaveCount(9).And.OnlyContain(e => e.Level == LogLevel.Debug);
    }

    [Fact]
    public async Task A_routing_key_no_binding_matches_is_warned_about_as_such()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddExchange("orders", ExchangeType.Topic)
                .MapMessage<OrderPlaced>("orders")
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Bind<OrderPlaced>("order.eu.*")));

        await bus.Publisher.PublishAsync(new OrderPlaced(1), "order.us.created");

        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == NoBinding).Which.Message.Should()
            .Be($"No binding of exchange orders matches {typeof(OrderPlaced)} with routing key 'order.us.created'. The message was dropped; later ones of this type on this exchange are logged at Debug (event 10)");
        bus.Logs.Entries.Should().NotContain(e => e.EventId == NoConsumer);
    }

    [Fact]
    public async Task A_mandatory_publish_throws_instead_of_warning()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        var publish = async () => await bus.Publisher.PublishAsync(new Ping(1), new PublishOptions { Mandatory = true });

        await publish.Should().ThrowAsync<UnroutableMessageException>();
        bus.Logs.Entries.Should().NotContain(e => e.EventId == NoConsumer);
    }

    [Fact]
    public async Task A_request_nobody_can_answer_says_that_no_consumer_is_registered_to_respond()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        var request = () => bus.Publisher.RequestAsync<Ping, Pong>(new Ping(1));

        var thrown = (await request.Should().ThrowAsync<UnroutableMessageException>()).Which;
        thrown.Message.Should().StartWith($"No consumer is registered to respond to {typeof(Ping)}")
            .And.Contain("AddConsumer<TConsumer>()").And.Contain("IConsumer<Ping>").And.NotContain("mandatory");
        thrown.MessageType.Should().Be<Ping>();
    }

    [Fact]
    public void The_pairs_warned_about_are_bounded_and_reaching_the_bound_is_said_once()
    {
        var logs = new LogCollector();
        var warnings = new UnroutableWarnings(logs.CreateLogger("Bus"));

        for (var i = 0; i <= UnroutableWarnings.Capacity; i++)
        {
            var exchange = new Exchange($"exchange-{i}", FanoutRoutingStrategy.Instance, ExchangeType.Fanout, 0);
            warnings.Warn(exchange, typeof(Ping), string.Empty);
            warnings.Warn(exchange, typeof(Ping), string.Empty);
        }

        logs.Entries.Where(e => e.EventId == NoConsumer).Should().HaveCount(UnroutableWarnings.Capacity);
        logs.Entries.Should().ContainSingle(e => e.EventId == WarningsFull);
        logs.Entries.Should().NotContain(e => e.Message.Contains($"exchange-{UnroutableWarnings.Capacity}:"));
    }
}
