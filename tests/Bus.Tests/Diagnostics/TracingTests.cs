using System.Diagnostics;
using Bus.Tests.Support;

namespace Bus.Tests.Diagnostics;

[Collection(BusActivitySourceCollection.Name)]
public sealed class TracingTests
{
    private static readonly string OrderExchange = typeof(OrderPlaced).FullName!;
    private static readonly string OrderQueue = typeof(Shipper).FullName!;

    [Fact]
    public async Task A_consumer_span_continues_the_publish_that_sent_its_message_and_the_consumer_publishes_inside_it()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<Shipper>().AddConsumer<RecordingConsumer<Shipment>>(),
            s => s.AddSingleton<Shipper.Seen>());
        using var spans = new SpanCollector();
        var root = spans.StartTrace();

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        var ended = await spans.WhenAsync(s => s.Any(a => a.IsProcessOf<OrderPlaced>()) && s.Any(a => a.IsProcessOf<Shipment>()));

        var publish = ended.Single(a => a.IsPublishOf<OrderPlaced>());
        var process = ended.Single(a => a.IsProcessOf<OrderPlaced>());
        var nestedPublish = ended.Single(a => a.IsPublishOf<Shipment>());
        var nestedProcess = ended.Single(a => a.IsProcessOf<Shipment>());
        ended.Select(a => a.TraceId).Should().AllBeEquivalentTo(root.TraceId);
        publish.ParentSpanId.Should().Be(root.SpanId);
        process.ParentSpanId.Should().Be(publish.SpanId, "the process span continues the context carried in the message");
        nestedPublish.ParentSpanId.Should().Be(process.SpanId, "what a consumer publishes is published inside its delivery");
        nestedProcess.ParentSpanId.Should().Be(nestedPublish.SpanId);
        (publish.Kind, publish.DisplayName).Should().Be((ActivityKind.Producer, $"publish {OrderExchange}"));
        (process.Kind, process.DisplayName).Should().Be((ActivityKind.Consumer, $"process {OrderQueue}"));
        process.HasRemoteParent.Should().BeTrue();
        bus.Get<Shipper.Seen>().Envelopes.Single().Headers["traceparent"].Should().Be(publish.Id, "the message carries its publish span's W3C context");
    }

    [Fact]
    public async Task Publish_and_process_spans_carry_the_messaging_attributes()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<Shipper>().AddConsumer<RecordingConsumer<Shipment>>(),
            s => s.AddSingleton<Shipper.Seen>());
        using var spans = new SpanCollector();
        spans.StartTrace();
        var correlationId = Guid.NewGuid();

        await bus.Publisher.PublishAsync(new OrderPlaced(2), new PublishOptions { CorrelationId = correlationId, RoutingKey = "eu" });
        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<OrderPlaced>(), 1);
        await bus.IdleAsync();

        var envelope = bus.Get<Shipper.Seen>().Envelopes.Should().ContainSingle().Subject;
        var publish = ended.Single(a => a.IsPublishOf<OrderPlaced>());
        publish.TagObjects.Should().Contain(new Dictionary<string, object?>
        {
            ["messaging.system"] = "bus",
            ["messaging.operation.type"] = "send",
            ["messaging.operation.name"] = "publish",
            ["messaging.destination.name"] = OrderExchange,
            ["messaging.message.id"] = envelope.MessageId.ToString(),
            ["messaging.message.conversation_id"] = correlationId.ToString(),
            ["bus.message.type"] = typeof(OrderPlaced).FullName,
            ["bus.routing_key"] = "eu",
        });
        var process = ended.Single(a => a.IsProcessOf<OrderPlaced>());
        process.TagObjects.Should().Contain(new Dictionary<string, object?>
        {
            ["messaging.system"] = "bus",
            ["messaging.operation.type"] = "process",
            ["messaging.operation.name"] = "process",
            ["messaging.destination.name"] = OrderQueue,
            ["messaging.consumer.group.name"] = OrderQueue,
            ["messaging.message.id"] = envelope.MessageId.ToString(),
            ["messaging.message.conversation_id"] = correlationId.ToString(),
            ["bus.message.delivery_count"] = 1,
            ["bus.message.type"] = typeof(OrderPlaced).FullName,
            ["bus.consumer.type"] = typeof(Shipper).FullName,
        });
        process.Status.Should().Be(ActivityStatusCode.Unset);
    }

    [Fact]
    public async Task A_send_span_is_named_after_its_queue_and_its_consumer_joins_the_trace()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        using var spans = new SpanCollector();
        var root = spans.StartTrace();

        await bus.Publisher.SendAsync("jobs", new Job(1));
        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<Job>(), 1);

        var send = ended.Single(a => a.IsPublishOf<Job>());
        (send.DisplayName, send.Tag("messaging.operation.name"), send.Tag("messaging.destination.name")).Should().Be(("send jobs", "send", "jobs"));
        send.TraceId.Should().Be(root.TraceId);
        ended.Single(a => a.IsProcessOf<Job>()).ParentSpanId.Should().Be(send.SpanId);
    }

    [Fact]
    public async Task A_failed_delivery_marks_its_span_as_an_error_with_the_exception()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<AlwaysFails>(c => c.Queue = "jobs"));
        using var spans = new SpanCollector();
        spans.StartTrace();

        await bus.Publisher.PublishAsync(new Job(1));
        var process = (await spans.WhenCountAsync(a => a.IsProcessOf<Job>(), 1)).Single(a => a.IsProcessOf<Job>());

        process.Status.Should().Be(ActivityStatusCode.Error);
        process.StatusDescription.Should().Be("job 1 failed");
        process.Tag("error.type").Should().Be(typeof(InvalidOperationException).FullName);
        var exception = process.SingleEvent("exception");
        exception.Tag("exception.type").Should().Be(typeof(InvalidOperationException).FullName);
        exception.Tag("exception.message").Should().Be("job 1 failed");
        exception.Tag("exception.stacktrace").Should().BeOfType<string>().Which.Should().Contain(nameof(AlwaysFails));
    }

    [Fact]
    public async Task Each_attempt_of_a_retried_message_is_a_span_under_the_same_publish_and_the_last_records_the_dead_letter()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<AlwaysFails>(c => { c.Queue = "jobs"; c.RetryPolicy = RetryPolicy.Immediate(2); }));
        using var spans = new SpanCollector();
        spans.StartTrace();

        await bus.Publisher.PublishAsync(new Job(1));
        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<Job>(), 3);

        var publish = ended.Single(a => a.IsPublishOf<Job>());
        var attempts = ended.Where(a => a.IsProcessOf<Job>()).OrderBy(a => a.GetTagItem("bus.message.delivery_count")).ToList();
        attempts.Select(a => a.GetTagItem("bus.message.delivery_count")).Should().Equal(1, 2, 3);
        attempts.Should().OnlyContain(a => a.ParentSpanId == publish.SpanId && a.TraceId == publish.TraceId);
        attempts.Select(a => a.SpanId).Should().OnlyHaveUniqueItems();
        attempts.Should().OnlyContain(a => a.Status == ActivityStatusCode.Error);
        for (var i = 0; i < 2; i++)
        {
            var retry = attempts[i].SingleEvent("bus.retry");
            retry.Tag("bus.message.delivery_count").Should().Be(i + 2, "the event names the attempt to come");
            attempts[i].Event("bus.dead_letter").Should().BeNull();
        }

        attempts[2].Event("bus.retry").Should().BeNull();
        var deadLetter = attempts[2].SingleEvent("bus.dead_letter");
        deadLetter.Tag("bus.dead_letter.reason").Should().Be(nameof(DeadLetterReason.MaxRetriesExceeded));
    }

    [Fact]
    public async Task A_message_that_expired_in_its_queue_shows_the_expiry_on_its_span()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => { c.Queue = "jobs"; c.QueueOptions.TimeToLive = TimeSpan.FromSeconds(10); }),
            s => s.AddSingleton<Gate>());
        using var spans = new SpanCollector();
        spans.StartTrace();
        await bus.Publisher.PublishAsync(new Job(0));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        await bus.Publisher.PublishAsync(new Job(1));

        bus.Time.Advance(TimeSpan.FromSeconds(10));
        bus.Get<Gate>().Open();
        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<Job>(), 2);
        await bus.IdleAsync();

        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
        var expiredId = deadLetters.Should().ContainSingle().Subject.Envelope.MessageId.ToString();
        var expired = ended.Single(a => a.IsProcessOf<Job>() && a.Tag("messaging.message.id") == expiredId);
        expired.SingleEvent("bus.expired");
        expired.SingleEvent("bus.dead_letter").Tag("bus.dead_letter.reason").Should().Be(nameof(DeadLetterReason.Expired));
        ended.Single(a => a.IsProcessOf<Job>() && a.Tag("messaging.message.id") != expiredId).Event("bus.expired").Should().BeNull();
    }

    [Fact]
    public async Task A_request_span_is_the_parent_of_its_publish_and_the_responder_records_its_reply_in_the_same_trace()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<Quoter>());
        using var spans = new SpanCollector();
        var root = spans.StartTrace();

        var price = await bus.Publisher.RequestAsync<Quote, Price>(new Quote(3)).WaitAsync(TestBus.Timeout);
        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<Quote>(), 1);

        price.Should().Be(new Price(3, 30m));
        var request = ended.Single(a => a.Kind == ActivityKind.Client);
        var publish = ended.Single(a => a.IsPublishOf<Quote>());
        var process = ended.Single(a => a.IsProcessOf<Quote>());
        (request.DisplayName, request.ParentSpanId).Should().Be(($"request {nameof(Quote)}", root.SpanId));
        publish.ParentSpanId.Should().Be(request.SpanId);
        process.ParentSpanId.Should().Be(publish.SpanId);
        new[] { request, publish, process }.Select(a => a.TraceId).Should().AllBeEquivalentTo(root.TraceId);
        request.Tag("messaging.message.id").Should().Be(publish.Tag("messaging.message.id"), "the request id is the message id");
        process.SingleEvent("bus.reply");
        request.Status.Should().Be(ActivityStatusCode.Unset);
    }

    [Fact]
    public async Task A_batch_span_links_to_the_publish_of_each_of_its_messages()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<CountingBatchConsumer>(c => { c.Queue = "jobs"; c.Batch.MaxSize = 3; c.Batch.Window = TimeSpan.FromHours(1); }));
        using var spans = new SpanCollector();
        var root = spans.StartTrace();

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        var ended = await spans.WhenCountAsync(a => a.IsProcessOf<Job>(), 1);

        var publishes = ended.Where(a => a.IsPublishOf<Job>()).ToList();
        publishes.Should().HaveCount(3);
        var batch = ended.Single(a => a.IsProcessOf<Job>());
        batch.Links.Select(l => l.Context.SpanId).Should().BeEquivalentTo(publishes.Select(p => p.SpanId));
        batch.Links.Should().OnlyContain(l => l.Context.TraceId == root.TraceId);
        (batch.DisplayName, batch.GetTagItem("messaging.batch.message_count")).Should().Be(("process jobs", (object)3));
    }

    [Fact]
    public async Task A_delivery_span_has_ended_by_the_time_the_bus_reports_itself_idle()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        using var spans = new SpanCollector();
        using var stopLooking = new CancellationTokenSource();
        var ended = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        spans.OnEnded = span =>
        {
            if (span.IsProcessOf<Job>())
            {
                // Whether a caller of WaitForIdleAsync, right now, would be told the bus is idle.
                ended.TrySetResult(bus.Bus.WaitForIdleAsync(stopLooking.Token).IsCompleted);
            }
        };
        spans.StartTrace();

        await bus.Publisher.PublishAsync(new Job(1));
        var idleWhenEnded = await ended.Task.WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();
        await stopLooking.CancelAsync();

        idleWhenEnded.Should().BeFalse("a test that waits for idle and then reads the exported spans must find the last delivery's span");
    }

    [Fact]
    public async Task Without_a_listener_nothing_is_added_to_the_message_headers()
    {
        // Runs in a collection of its own, after every parallel test: nothing else listens to the bus's source now.
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2), new PublishOptions { Headers = new Dictionary<string, object?> { ["tenant"] = "a" } });
        await bus.IdleAsync();

        var headers = bus.Recorder.All.Select(r => r.Envelope.Headers).ToList();
        headers.Should().HaveCount(2);
        headers[0].Should().BeEmpty();
        headers[1].Keys.Should().Equal("tenant");
    }

    /// <summary>Ships every order it sees: publishes from inside its delivery.</summary>
    public sealed class Shipper(Shipper.Seen seen) : IConsumer<OrderPlaced>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            seen.Envelopes.Enqueue(context.Envelope);
            await context.PublishAsync(new Shipment(context.Message.Id), cancellationToken);
        }

        public sealed class Seen
        {
            public System.Collections.Concurrent.ConcurrentQueue<Envelope> Envelopes { get; } = new();
        }
    }

    public sealed class AlwaysFails : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException($"job {context.Message.Id} failed");
    }

    public sealed class Quoter : IConsumer<Quote>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Quote> context, CancellationToken cancellationToken) =>
            context.RespondAsync(new Price(context.Message.Id, context.Message.Id * 10m), cancellationToken);
    }

    public sealed class CountingBatchConsumer : IBatchConsumer<Job>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken) => default;
    }
}
