using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Publishing;

public sealed class EnvelopeTests
{
    [Fact]
    public async Task Every_delivery_carries_the_envelope()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("shop", ExchangeType.Topic)
            .MapMessage<OrderPlaced>("shop")
            .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"));
        var sentAt = bus.Time.GetUtcNow();

        await bus.Publisher.PublishAsync(
            new OrderPlaced(1),
            new PublishOptions { RoutingKey = "order.created", Headers = new Dictionary<string, object?> { ["tenant"] = "acme", ["priority"] = 3 } });
        await bus.IdleAsync();

        var envelope = bus.Recorder.All.Should().ContainSingle().Subject.Envelope;
        envelope.MessageId.Should().NotBeEmpty();
        envelope.CorrelationId.Should().Be(envelope.MessageId, "a message that starts a conversation correlates with itself");
        envelope.Timestamp.Should().Be(sentAt);
        envelope.MessageType.Should().Be<OrderPlaced>();
        envelope.Exchange.Should().Be("shop");
        envelope.RoutingKey.Should().Be("order.created");
        envelope.Headers.Should().Contain(new KeyValuePair<string, object?>("tenant", "acme")).And.HaveCount(2);
        envelope.DeliveryCount.Should().Be(1);
        bus.Recorder.All[0].Queue.Should().Be("orders");
    }

    [Fact]
    public async Task Message_ids_are_unique_and_ordered_by_time()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());

        for (var i = 0; i < 100; i++)
        {
            await bus.Publisher.PublishAsync(new OrderPlaced(i));
            bus.Time.Advance(TimeSpan.FromMilliseconds(i % 3));
        }

        await bus.IdleAsync();

        var ids = bus.Recorder.All.Select(r => r.Envelope.MessageId).ToList();
        ids.Should().OnlyHaveUniqueItems().And.BeInAscendingOrder();
        ids[0].ToString()[14].Should().Be('7', "the version nibble of a UUIDv7 (Guid.Version is .NET 9 and later)");
    }

    [Fact]
    public void Message_ids_from_many_threads_never_repeat()
    {
        var now = DateTimeOffset.UtcNow;
        var ids = new Guid[4][];

        Parallel.For(0, 4, t =>
        {
            ids[t] = new Guid[25_000];
            for (var i = 0; i < ids[t].Length; i++)
            {
                ids[t][i] = MessageIdGenerator.Next(now);
            }
        });

        ids.SelectMany(x => x).Should().OnlyHaveUniqueItems();
        ids.Should().AllSatisfy(perThread => perThread.Should().BeInAscendingOrder());
    }

    [Fact]
    public async Task Headers_are_copied_at_publish()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<GatedConsumer<OrderPlaced>>(), s => s.AddSingleton<Gate>());
        var headers = new Dictionary<string, object?> { ["tenant"] = "acme" };

        await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { Headers = headers });
        headers["tenant"] = "changed";
        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.All.Single().Envelope.Headers["tenant"].Should().Be("acme");
    }

    [Fact]
    public async Task Messages_published_from_a_consumer_carry_its_correlation_id()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<ForwardingConsumer>()
            .AddConsumer<InjectedPublisherConsumer>()
            .AddConsumer<RecordingConsumer<PaymentCompleted>>()
            .AddConsumer<RecordingConsumer<Pong>>());
        var correlationId = Guid.NewGuid();

        await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { CorrelationId = correlationId });
        await bus.Publisher.PublishAsync(new Ping(1), new PublishOptions { CorrelationId = correlationId });
        await bus.IdleAsync();

        bus.Recorder.Messages<PaymentCompleted>().Should().ContainSingle();
        bus.Recorder.Messages<Pong>().Should().ContainSingle();
        bus.Recorder.All.Should().AllSatisfy(r => r.Envelope.CorrelationId.Should().Be(correlationId));
    }

    [Fact]
    public void Priority_and_delivery_count_are_kept_apart_and_the_count_stops_at_its_maximum()
    {
        var envelope = new Envelope(new Job(1), typeof(Job), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, 3, priority: 255);

        (envelope.Priority, envelope.DeliveryCount).Should().Be(((byte)255, 3));
        var last = envelope.WithDeliveryCount(Envelope.MaxDeliveryCount + 1);
        (last.Priority, last.DeliveryCount).Should().Be(((byte)255, Envelope.MaxDeliveryCount));
    }

    [Fact]
    public void A_delivery_count_beyond_the_maximum_is_refused()
    {
        var create = () => new Envelope(new Job(1), typeof(Job), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, Envelope.MaxDeliveryCount + 1);

        create.Should().Throw<ArgumentOutOfRangeException>().WithParameterName("deliveryCount");
    }

    [Fact]
    public async Task A_published_priority_travels_in_the_envelope()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { Priority = 7 });
        await bus.IdleAsync();

        bus.Recorder.All.Single().Envelope.Priority.Should().Be(7);
    }

    public sealed class ForwardingConsumer : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            context.PublishAsync(new PaymentCompleted(context.Message.Id), cancellationToken);
    }

    public sealed class InjectedPublisherConsumer(IPublisher publisher) : IConsumer<Ping>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Ping> context, CancellationToken cancellationToken) =>
            publisher.PublishAsync(new Pong(context.Message.Hop), cancellationToken);
    }
}
