using System.Diagnostics.Metrics;
using Bus.Tests.Support;

namespace Bus.Tests.Diagnostics;

/// <summary>
/// The bus's instruments against its own statistics. Each bus gets its meter from its container's
/// <see cref="IMeterFactory"/>, and <see cref="MeasurementLog"/> listens to that factory's meters only, so these tests run
/// in parallel with every other.
/// </summary>
public sealed class MetricsTests
{
    private const string Sent = "messaging.client.sent.messages";
    private const string Consumed = "messaging.client.consumed.messages";
    private const string ProcessDuration = "messaging.process.duration";
    private const string OperationDuration = "messaging.client.operation.duration";
    private const string ErrorType = "error.type";
    private static readonly string JobExchange = typeof(Job).FullName!;

    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null) =>
        TestBus.StartAsync(configure, s =>
        {
            s.AddMetrics();
            services?.Invoke(s);
        });

    private static MeasurementLog Listen(TestBus bus) => new(bus.Get<IMeterFactory>());

    [Fact]
    public async Task Under_concurrent_load_with_faults_the_counters_add_up_to_the_bus_statistics()
    {
        const int Publishers = 4;
        const int PerPublisher = 250;
        await using var bus = await StartAsync(b => b.AddConsumer<Unreliable>(c =>
        {
            c.Queue = "work";
            c.QueueOptions.Concurrency = 4;
            c.RetryPolicy = RetryPolicy.Immediate(2).Ignore<FormatException>();
        }));
        using var log = Listen(bus);

        await Task.WhenAll(Enumerable.Range(0, Publishers).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < PerPublisher; i++)
            {
                await bus.Publisher.PublishAsync(new Job((p * PerPublisher) + i));
            }
        }))).WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        var queue = bus.Bus.GetStatistics().GetQueue("work");
        var ids = Enumerable.Range(0, Publishers * PerPublisher).ToList();
        var poison = ids.Count(Unreliable.IsPoison);
        var malformed = ids.Count(Unreliable.IsMalformed);
        var flaky = ids.Count(Unreliable.IsFlaky);
        (queue.Enqueued, queue.Consumed, queue.Faulted, queue.Retried).Should().Be(
            (ids.Count, (long)(ids.Count - poison - malformed), (long)((3 * poison) + malformed + flaky), (long)((2 * poison) + flaky)),
            "the script fails every tenth job for good, every other seventh once and for good, every other third once");

        log.Sum(Sent).Should().Be(queue.Enqueued);
        log.Of(Sent).Should().OnlyContain(m => (string?)m["messaging.destination.name"] == JobExchange && (string?)m["messaging.operation.name"] == "publish" && m[ErrorType] == null);
        log.Sum(Consumed, m => m[ErrorType] is null).Should().Be(queue.Consumed);
        log.Sum(Consumed, m => m[ErrorType] is not null).Should().Be(queue.Faulted);
        log.Of(Consumed).Where(m => m[ErrorType] is not null).GroupBy(m => (string)m[ErrorType]!).ToDictionary(g => g.Key, g => g.Sum(m => (long)m.Value))
            .Should().BeEquivalentTo(new Dictionary<string, long>
            {
                [typeof(InvalidOperationException).FullName!] = 3 * poison,
                [typeof(FormatException).FullName!] = malformed,
                [typeof(TimeoutException).FullName!] = flaky,
            });
        log.Of(Consumed).Should().OnlyContain(m => (string?)m["messaging.destination.name"] == "work" && (string?)m["messaging.consumer.group.name"] == "work");
        log.Sum("bus.messages.retried").Should().Be(queue.Retried);
        log.Of("bus.messages.dead_lettered").GroupBy(m => (string)m["bus.dead_letter.reason"]!).ToDictionary(g => g.Key, g => g.Sum(m => (long)m.Value))
            .Should().BeEquivalentTo(queue.DeadLetteredByReason.ToDictionary(p => p.Key.ToString(), p => p.Value));
        queue.DeadLetteredByReason.Keys.Should().BeEquivalentTo([DeadLetterReason.MaxRetriesExceeded, DeadLetterReason.NotRetryable]);
        log.Of(ProcessDuration).Should().HaveCount((int)(queue.Consumed + queue.Faulted), "one measurement per delivery");
        log.Of(ProcessDuration).Count(m => m[ErrorType] is not null).Should().Be((int)queue.Faulted);
        log.Of(OperationDuration).Should().HaveCount(ids.Count);
        log.All.Should().OnlyContain(m => !m.Tags.ContainsKey("messaging.message.id"), "ids would make every series unique");
    }

    [Fact]
    public async Task A_delivery_is_measured_before_the_bus_reports_itself_idle()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        using var log = Listen(bus);
        using var stopLooking = new CancellationTokenSource();
        var measured = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        log.OnMeasured = m =>
        {
            if (m.Instrument == Consumed)
            {
                // Whether a caller of WaitForIdleAsync, right now, would be told the bus is idle.
                measured.TrySetResult(bus.Bus.WaitForIdleAsync(stopLooking.Token).IsCompleted);
            }
        };

        await bus.Publisher.PublishAsync(new Job(1));
        var idleWhenMeasured = await measured.Task.WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();
        await stopLooking.CancelAsync();

        idleWhenMeasured.Should().BeFalse(
            "a test or a health check that waits for idle and then reads the counters must find the last delivery counted");
    }

    [Fact]
    public async Task A_message_dropped_by_a_full_queue_is_counted_with_the_queue_full_mode()
    {
        await using var bus = await StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => { c.Queue = "jobs"; c.QueueOptions.Capacity = 2; c.QueueOptions.FullMode = QueueFullMode.DropOldest; }),
            s => s.AddSingleton<Gate>());
        using var log = Listen(bus);
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        foreach (var id in new[] { 2, 3, 4 })
        {
            await bus.Publisher.PublishAsync(new Job(id));
        }

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        var queue = bus.Bus.GetStatistics().GetQueue("jobs");
        queue.Dropped.Should().Be(1);
        var dropped = log.Of("bus.messages.dropped").Should().ContainSingle().Subject;
        dropped.Value.Should().Be(1);
        dropped.Tags.Should().Contain(new Dictionary<string, object?>
        {
            ["bus.queue.full_mode"] = nameof(QueueFullMode.DropOldest),
            ["messaging.destination.name"] = "jobs",
            ["bus.message.type"] = JobExchange,
        });
        log.Sum("bus.messages.dead_lettered", m => (string?)m["bus.dead_letter.reason"] == nameof(DeadLetterReason.Overflow))
            .Should().Be(queue.DeadLetteredByReason[DeadLetterReason.Overflow]);
    }

    [Fact]
    public async Task An_unroutable_publish_is_counted_against_its_exchange()
    {
        await using var bus = await StartAsync(b => b
            .AddExchange("events", ExchangeType.Topic)
            .AddQueue("orders")
            .Bind("events", "orders", "order.*")
            .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"));
        using var log = Listen(bus);

        await bus.Publisher.PublishAsync(new OrderPlaced(1), new PublishOptions { Exchange = "events", RoutingKey = "invoice.paid" });
        await bus.Publisher.PublishAsync(new OrderPlaced(2), new PublishOptions { Exchange = "events", RoutingKey = "order.placed" });
        await bus.Publisher.PublishAsync(new Job(3));
        await bus.IdleAsync();

        bus.Bus.GetStatistics().Unroutable.Should().Be(2);
        log.Of("bus.messages.unroutable").GroupBy(m => (string)m["bus.exchange"]!).ToDictionary(g => g.Key, g => g.Sum(m => (long)m.Value))
            .Should().BeEquivalentTo(new Dictionary<string, long> { ["events"] = 1, [JobExchange] = 1 });
        log.Of("bus.messages.unroutable").Should().OnlyContain(m => m.Tags.ContainsKey("bus.message.type") && !m.Tags.ContainsKey("bus.routing_key"));
        log.Sum(Sent).Should().Be(3, "an unroutable publish is still a publish");
    }

    [Fact]
    public async Task The_gauges_read_what_the_monitor_reads_while_a_consumer_holds_its_queue()
    {
        await using var bus = await StartAsync(
            b => b
                .AddConsumer<GatedConsumer<Job>>(c => c.Queue = "held")
                .AddConsumer<GatedConsumer<Quote>>(c => c.Queue = "quotes")
                .AddConsumer<FailsEveryTime>(c => { c.Queue = "retrying"; c.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromHours(1)); })
                .AddConsumer<RejectsEverything>(c => c.Queue = "rejecting"),
            s => s.AddSingleton<Gate>());
        using var log = Listen(bus);
        using var cancelRequest = new CancellationTokenSource();
        var gate = bus.Get<Gate>();

        // A retry waiting for an hour, a dead letter and a publish scheduled for later, then a held queue and request.
        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Publisher.PublishAsync(new PaymentCompleted(1));
        await bus.Publisher.ScheduleAsync(new Ping(1), TimeSpan.FromHours(2));
        await bus.IdleAsync();
        await bus.Publisher.PublishAsync(new Job(0));
        await gate.WhenArrivedAsync(1);
        for (var i = 1; i <= 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        var request = bus.Publisher.RequestAsync<Quote, Price>(new Quote(1), cancelRequest.Token);
        await gate.WhenArrivedAsync(2);

        var snapshot = bus.Get<IBusMonitor>().GetSnapshot();
        var gauges = log.Observe();

        long Gauge(string name, string? queue = null) =>
            (long)gauges.Should().ContainSingle(m => m.Instrument == name && (queue == null || (string?)m["messaging.destination.name"] == queue), $"{name} {queue}").Subject.Value;

        foreach (var queue in snapshot.Queues)
        {
            (Gauge("bus.queue.depth", queue.Name), Gauge("bus.queue.capacity", queue.Name), Gauge("bus.queue.in_flight", queue.Name), Gauge("bus.queue.waiting_retries", queue.Name))
                .Should().Be(((long)queue.Depth, (long)queue.Capacity, queue.InFlight, queue.WaitingForRetry), queue.Name);
        }

        (Gauge("bus.scheduled.messages"), Gauge("bus.requests.pending"), Gauge("bus.dead_letters"))
            .Should().Be(((long)snapshot.Scheduled, (long)snapshot.PendingRequests, (long)snapshot.DeadLetters));

        // The figures are the ones the test set up, not zeros that happen to agree.
        var held = snapshot.GetQueue("held");
        (held.Depth, held.InFlight, held.Capacity).Should().Be((3, 1L, QueueOptions.DefaultCapacity));
        snapshot.GetQueue("retrying").WaitingForRetry.Should().Be(1);
        snapshot.GetQueue("quotes").InFlight.Should().Be(1);
        (snapshot.Scheduled, snapshot.PendingRequests, snapshot.DeadLetters).Should().Be((1, 1, 1));

        await cancelRequest.CancelAsync();
        await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<OperationCanceledException>();
        gate.Open();
        await bus.IdleAsync();
    }

    [Fact]
    public async Task A_delivery_the_consumer_rejects_is_not_counted_as_consumed_successfully()
    {
        await using var bus = await StartAsync(b => b.AddConsumer<RejectsEverything>(c => c.Queue = "rejecting"));
        using var log = Listen(bus);

        await bus.Publisher.PublishAsync(new PaymentCompleted(1));
        await bus.IdleAsync();

        var queue = bus.Bus.GetStatistics().GetQueue("rejecting");
        (queue.Consumed, queue.DeadLetteredByReason[DeadLetterReason.Rejected]).Should().Be((0L, 1L));
        log.Sum("bus.messages.dead_lettered", m => (string?)m["bus.dead_letter.reason"] == nameof(DeadLetterReason.Rejected)).Should().Be(1);
        log.Sum(Consumed, m => m[ErrorType] is null).Should().Be(
            queue.Consumed, "the instrument's description says failed deliveries carry error.type, and a rejected message ends in the dead-letter store");
        log.Sum(Consumed, m => m[ErrorType] is not null).Should().Be(queue.Faulted);
    }

    /// <summary>Fails every tenth job for good, every other seventh as not retryable, every other third on its first delivery.</summary>
    public sealed class Unreliable : IConsumer<Job>
    {
        public static bool IsPoison(int id) => id % 10 == 0;

        public static bool IsMalformed(int id) => !IsPoison(id) && id % 7 == 0;

        public static bool IsFlaky(int id) => !IsPoison(id) && !IsMalformed(id) && id % 3 == 0;

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            var id = context.Message.Id;
            if (IsPoison(id))
            {
                throw new InvalidOperationException($"job {id} always fails");
            }

            if (IsMalformed(id))
            {
                throw new FormatException($"job {id} is malformed");
            }

            if (IsFlaky(id) && context.DeliveryCount == 1)
            {
                throw new TimeoutException($"job {id} timed out once");
            }

            return default;
        }
    }

    public sealed class FailsEveryTime : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("no");
    }

    public sealed class RejectsEverything : IConsumer<PaymentCompleted>
    {
        public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken)
        {
            context.Reject("malformed");
            return default;
        }
    }
}
