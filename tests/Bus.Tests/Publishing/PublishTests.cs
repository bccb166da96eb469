using Bus.Tests.Support;

namespace Bus.Tests.Publishing;

public sealed class PublishTests
{
    [Fact]
    public async Task Publishing_null_throws_ArgumentNullException()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        var publish = async () => await bus.Publisher.PublishAsync<OrderPlaced>(null!);

        (await publish.Should().ThrowAsync<ArgumentNullException>()).Which.ParamName.Should().Be("message");
    }

    [Fact]
    public async Task Publishing_before_start_names_the_message_type()
    {
        await using var bus = TestBus.Create(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1));

        (await publish.Should().ThrowAsync<BusNotRunningException>())
            .Which.Message.Should().Contain(typeof(OrderPlaced).FullName).And.Contain("not been started");
    }

    [Fact]
    public async Task Publishing_to_a_stopped_bus_names_the_message_type_and_publishes_nothing()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        await bus.Bus.StopAsync();

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1));

        var thrown = (await publish.Should().ThrowAsync<BusNotRunningException>()).Which;
        thrown.MessageType.Should().Be<OrderPlaced>();
        thrown.State.Should().Be(BusState.Stopped);
        bus.Bus.GetStatistics().Queues.Sum(q => q.Enqueued).Should().Be(0);
    }

    [Fact]
    public async Task A_message_nobody_subscribes_to_is_counted_and_logged_at_debug()
    {
        await using var bus = await TestBus.StartAsync(_ => { });

        await bus.Publisher.PublishAsync(new OrderPlaced(1));

        bus.Bus.GetStatistics().Unroutable.Should().Be(1);
        bus.Logs.Entries.Should().Contain(e => e.EventId == 10 && e.Level == Microsoft.Extensions.Logging.LogLevel.Debug);
    }

    [Fact]
    public async Task A_mandatory_publish_nobody_subscribes_to_throws_UnroutableMessageException()
    {
        await using var bus = await TestBus.StartAsync(_ => { });

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { Mandatory = true, RoutingKey = "k" });

        var thrown = (await publish.Should().ThrowAsync<UnroutableMessageException>()).Which;
        thrown.MessageType.Should().Be<OrderPlaced>();
        thrown.RoutingKey.Should().Be("k");
        thrown.Message.Should().Contain(nameof(OrderPlaced));
    }

    [Fact]
    public async Task Publishing_to_an_unknown_exchange_names_it()
    {
        await using var bus = await TestBus.StartAsync(_ => { });

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { Exchange = "nope" });

        (await publish.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'nope'");
    }

    [Fact]
    public async Task Sending_to_an_unknown_queue_names_it()
    {
        await using var bus = await TestBus.StartAsync(_ => { });

        var send = async () => await bus.Publisher.SendAsync("nowhere", new OrderPlaced(1));

        (await send.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'nowhere'");
    }

    [Fact]
    public async Task A_routing_key_longer_than_255_characters_is_refused()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1), new string('k', 256));

        (await publish.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("255");
    }

    [Fact]
    public async Task A_header_that_is_not_a_primitive_value_is_refused_by_name()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        var publish = async () => await bus.Publisher.PublishAsync(
            new OrderPlaced(1),
            new PublishOptions { Headers = new Dictionary<string, object?> { ["tenant"] = "a", ["payload"] = new object() } });

        (await publish.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'payload'");
    }

    [Fact]
    public async Task Sending_to_a_queue_delivers_to_that_queue_only()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("jobs")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs")
            .AddConsumer<OtherJobConsumer>());

        await bus.Publisher.SendAsync("jobs", new Job(7));
        await bus.IdleAsync();

        var received = bus.Recorder.All.Should().ContainSingle().Subject;
        received.Queue.Should().Be("jobs");
        received.Envelope.Exchange.Should().BeEmpty();
    }

    [Fact]
    public async Task A_cancelled_token_publishes_nothing()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(1), new CancellationToken(canceled: true));

        await publish.Should().ThrowAsync<OperationCanceledException>();
        bus.Bus.GetStatistics().Queues.Sum(q => q.Enqueued).Should().Be(0);
    }

    public sealed class OtherJobConsumer(Recorder recorder) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(OtherJobConsumer));
            return default;
        }
    }
}
