using FluentAssertions;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Bus.TransportContract;

/// <summary>
/// What every transport must do for the bus, the in-memory one and a broker alike: route as RabbitMQ does, hand each
/// message to one competing consumer, acknowledge, retry, dead-letter, expire, order by priority, answer requests,
/// follow run-time bindings, and account for every message exactly once across a stop. A transport runs the suite by
/// deriving from this class and moving the bus onto itself in <see cref="UseTransport"/>.
/// </summary>
/// <remarks>
/// Every test names its own exchanges and queues (<see cref="Name"/>), so tests can share one broker whose queues
/// outlive a bus; nothing here uses the default names made from consumer or message types. Completion is observed
/// through the bus's own observer (<see cref="ContractProbe"/>), never through the bus's idle check, which cannot see a
/// message that waits in a broker; that something did not arrive is shown by a <see cref="Marker"/> that did. Time
/// passes only where a behaviour needs it (a retry's delay, an expiry), on the bus's own timers; no test waits on the
/// clock.
/// <para>
/// To run the suite on another transport: compile this folder into the transport's test project
/// (<c>&lt;Compile Include="../TransportContract/**/*.cs" LinkBase="TransportContract" /&gt;</c>, with xunit.v3,
/// FluentAssertions and Microsoft.Extensions.DependencyInjection and .Logging), derive a class, and override
/// <see cref="UseTransport"/>, <see cref="RequireTransportAsync"/> if the transport needs something running, and
/// <see cref="KeepsUnprocessedMessages"/> if it is durable.
/// </para>
/// </remarks>
public abstract class TransportContractTests
{
    /// <summary>Every wait is bounded by this; it is a safety net, never a way to let work finish.</summary>
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(30);

    private readonly string _prefix = $"contract-{Guid.NewGuid():N}"[..17];

    /// <summary>
    /// Whether messages a stopping bus did not process stay in the transport for the next bus on the queue (a durable
    /// broker requeues them), rather than being reported in the <see cref="DrainReport"/> and dead-lettered as
    /// <see cref="DeadLetterReason.BusStopped"/> (in memory, where nothing outlives the bus).
    /// </summary>
    protected virtual bool KeepsUnprocessedMessages => false;

    /// <summary>Moves the bus onto the transport under test.</summary>
    protected abstract void UseTransport(IMessageBusBuilder bus);

    /// <summary>Returns when the transport can be used; skips or fails the test when it cannot (a broker that is not running).</summary>
    protected virtual Task RequireTransportAsync() => Task.CompletedTask;

    /// <summary>A name of this test's own: an exchange or queue no other test uses.</summary>
    protected string Name(string local) => $"{_prefix}.{local}";

    /// <summary>
    /// Builds a container with the bus on the transport under test and a fresh <see cref="ContractProbe"/> as its
    /// observer, and starts the bus; disposing the result stops it. A bus that follows <paramref name="previous"/> on
    /// the same queues goes on counting its consumer's attempts, so a message's plan of failures holds across both.
    /// </summary>
    protected async Task<ContractBus> StartBusAsync(Action<IMessageBusBuilder> configure, ContractBus? previous = null)
    {
        await RequireTransportAsync();
        var services = new ServiceCollection();
        var probe = new ContractProbe(previous?.Probe);
        services.AddSingleton(probe);
        services.AddSingleton<IBusObserver>(probe);
        services.AddLogging();
        services.AddMessageBus(bus =>
        {
            UseTransport(bus);
            configure(bus);
        });
        var provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        try
        {
            await provider.GetRequiredService<IMessageBus>().StartAsync().WaitAsync(WaitLimit);
        }
        catch
        {
            await provider.DisposeAsync();
            throw;
        }

        return new ContractBus(provider);
    }

    private static ValueTask PublishAsync(ContractBus bus, Work work, string exchange, string routingKey, IReadOnlyDictionary<string, object?>? headers = null, bool mandatory = false) =>
        bus.Publisher.PublishAsync(work, new PublishOptions { Exchange = exchange, RoutingKey = routingKey, Headers = headers, Mandatory = mandatory });

    [Fact]
    public async Task A_direct_exchange_delivers_to_the_queues_bound_with_the_exact_routing_key()
    {
        var logs = Name("logs");
        var disk = Name("disk");
        var console = Name("console");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(logs, ExchangeType.Direct)
            .AddConsumedQueue(disk).AddConsumedQueue(console)
            .Bind(logs, disk, "error")
            .Bind(logs, console, "error").Bind(logs, console, "info"));

        foreach (var key in new[] { "error", "info", "warning", "errors" })
        {
            await PublishAsync(bus, new Work(0), logs, key);
        }

        var consumed = await bus.KeysConsumedAsync(disk, console);
        consumed[disk].Should().Equal("error");
        consumed[console].Should().Equal("error", "info");
    }

    [Fact]
    public async Task A_fanout_exchange_delivers_a_copy_to_every_bound_queue_whatever_the_key()
    {
        var news = Name("news");
        var queues = new[] { Name("a"), Name("b"), Name("c") };
        var unbound = Name("unbound");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(news, ExchangeType.Fanout)
            .AddConsumedQueue(queues[0]).AddConsumedQueue(queues[1]).AddConsumedQueue(queues[2]).AddConsumedQueue(unbound)
            .Bind(news, queues[0]).Bind(news, queues[1], "ignored").Bind(news, queues[2]));

        await PublishAsync(bus, new Work(1), news, "sports");
        await PublishAsync(bus, new Work(2), news, string.Empty);

        var consumed = await bus.KeysConsumedAsync([.. queues, unbound]);
        foreach (var queue in queues)
        {
            consumed[queue].Should().Equal("sports", string.Empty);
        }

        consumed[unbound].Should().BeEmpty();
    }

    [Fact]
    public async Task A_topic_exchange_routes_the_RabbitMQ_tutorial_table()
    {
        // RabbitMQ tutorial 5: Q1 is bound with *.orange.*, Q2 with *.*.rabbit and lazy.#.
        var animals = Name("animals");
        var q1 = Name("q1");
        var q2 = Name("q2");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(animals, ExchangeType.Topic)
            .AddConsumedQueue(q1).AddConsumedQueue(q2)
            .Bind(animals, q1, "*.orange.*")
            .Bind(animals, q2, "*.*.rabbit").Bind(animals, q2, "lazy.#"));

        string[] keys =
        [
            "quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox", "lazy.brown.fox", "lazy.pink.rabbit",
            "quick.brown.fox", "orange", "quick.orange.male.rabbit", "lazy.orange.male.rabbit",
        ];
        foreach (var key in keys)
        {
            await PublishAsync(bus, new Work(0), animals, key);
        }

        var consumed = await bus.KeysConsumedAsync(q1, q2);
        consumed[q1].Should().Equal("quick.orange.rabbit", "lazy.orange.elephant", "quick.orange.fox");
        consumed[q2].Should().Equal(
            ["quick.orange.rabbit", "lazy.orange.elephant", "lazy.brown.fox", "lazy.pink.rabbit", "lazy.orange.male.rabbit"],
            "lazy.pink.rabbit matches both of Q2's bindings and is delivered once; quick.brown.fox, orange and quick.orange.male.rabbit match nothing");
    }

    [Fact]
    public async Task A_topic_hash_matches_zero_or_more_words()
    {
        var events = Name("events");
        var orders = Name("orders");
        var everything = Name("everything");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(events, ExchangeType.Topic)
            .AddConsumedQueue(orders).AddConsumedQueue(everything)
            .Bind(events, orders, "orders.#")
            .Bind(events, everything, "#"));

        foreach (var key in new[] { "orders", "orders.eu", "orders.eu.created", "ordersx", "shipping.orders", string.Empty })
        {
            await PublishAsync(bus, new Work(0), events, key);
        }

        var consumed = await bus.KeysConsumedAsync(orders, everything);
        consumed[orders].Should().Equal("orders", "orders.eu", "orders.eu.created");
        consumed[everything].Should().Equal("orders", "orders.eu", "orders.eu.created", "ordersx", "shipping.orders", string.Empty);
    }

    [Fact]
    public async Task A_headers_exchange_with_x_match_all_routes_only_messages_with_every_bound_header()
    {
        var (bus, documents, queue) = await StartHeadersBusAsync("all");
        await using (bus)
        {
            var consumed = await PublishHeadersAsync(bus, documents, queue);

            consumed.Should().Equal("pdf report", "pdf report with more");
        }
    }

    [Fact]
    public async Task A_headers_exchange_with_x_match_any_routes_messages_with_one_of_the_bound_headers()
    {
        var (bus, documents, queue) = await StartHeadersBusAsync("any");
        await using (bus)
        {
            var consumed = await PublishHeadersAsync(bus, documents, queue);

            consumed.Should().Equal("pdf report", "pdf report with more", "pdf log", "zip report");
        }
    }

    private async Task<(ContractBus Bus, string Exchange, string Queue)> StartHeadersBusAsync(string match)
    {
        var documents = Name("documents");
        var queue = Name("printer");
        var bus = await StartBusAsync(b => b
            .AddExchange(documents, ExchangeType.Headers)
            .AddConsumedQueue(queue)
            .Bind(documents, queue, new Dictionary<string, object?> { ["x-match"] = match, ["format"] = "pdf", ["type"] = "report" }));
        return (bus, documents, queue);
    }

    /// <summary>Publishes documents labelled by their routing key (which a headers exchange ignores); returns the labels the queue consumed.</summary>
    private static async Task<List<string>> PublishHeadersAsync(ContractBus bus, string documents, string queue)
    {
        (string Label, Dictionary<string, object?> Headers)[] messages =
        [
            ("pdf report", new() { ["format"] = "pdf", ["type"] = "report" }),
            ("pdf report with more", new() { ["format"] = "pdf", ["type"] = "report", ["pages"] = 3 }),
            ("pdf log", new() { ["format"] = "pdf", ["type"] = "log" }),
            ("zip report", new() { ["format"] = "zip", ["type"] = "report" }),
            ("zip log", new() { ["format"] = "zip", ["type"] = "log" }),
            ("no headers", new()),
        ];
        foreach (var (label, headers) in messages)
        {
            await PublishAsync(bus, new Work(0), documents, label, headers);
        }

        return (await bus.KeysConsumedAsync(queue))[queue];
    }

    [Fact]
    public async Task A_mandatory_publish_that_no_queue_is_bound_for_throws_UnroutableMessageException()
    {
        var logs = Name("logs");
        var errors = Name("errors");
        await using var bus = await StartBusAsync(b => b.AddExchange(logs, ExchangeType.Direct).AddConsumedQueue(errors).Bind(logs, errors, "error"));

        var publish = async () => await PublishAsync(bus, new Work(1), logs, "debug", mandatory: true);

        var thrown = (await publish.Should().ThrowAsync<UnroutableMessageException>()).Which;
        (thrown.MessageType, thrown.Exchange, thrown.RoutingKey).Should().Be((typeof(Work), logs, "debug"));
        (await bus.KeysConsumedAsync(errors))[errors].Should().BeEmpty();
    }

    [Fact]
    public async Task A_message_arrives_with_the_id_correlation_id_headers_exchange_and_key_it_was_published_with()
    {
        var exchange = Name("orders");
        var queue = Name("billing");
        await using var bus = await StartBusAsync(b => b.AddExchange(exchange, ExchangeType.Direct).AddConsumedQueue(queue).Bind(exchange, queue, "order.created"));
        var messageId = Guid.NewGuid();
        var correlationId = Guid.NewGuid();

        await bus.Publisher.PublishAsync(new Work(7), new PublishOptions
        {
            Exchange = exchange,
            RoutingKey = "order.created",
            MessageId = messageId,
            CorrelationId = correlationId,
            Priority = 3,
            Headers = new Dictionary<string, object?> { ["tenant"] = "acme", ["attempt-limit"] = 3, ["vip"] = true },
        });
        await bus.Probe.WhenWorkConsumedAsync(queue, 1);

        var envelope = bus.Probe.ConsumedIn(queue).Single().Envelope;
        (envelope.Message, envelope.MessageType, envelope.MessageId, envelope.CorrelationId).Should().Be(((object)new Work(7), typeof(Work), messageId, correlationId));
        (envelope.Exchange, envelope.RoutingKey, envelope.DeliveryCount, envelope.Priority).Should().Be((exchange, "order.created", 1, (byte)3));
        envelope.Headers.Should().Contain(new Dictionary<string, object?> { ["tenant"] = "acme", ["attempt-limit"] = 3, ["vip"] = true });
    }

    [Fact]
    public async Task Competing_consumers_of_one_queue_work_at_once_and_consume_each_message_once()
    {
        const int Count = 40;
        var queue = Name("work");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, q => q.Concurrency = 4));

        await Task.WhenAll(Enumerable.Range(0, Count).Select(i => bus.Publisher.SendAsync(queue, new Work(i, Gated: true)).AsTask()));
        await bus.Probe.Gate.WhenArrivedAsync(4);
        bus.Probe.Gate.Open();
        await bus.Probe.WhenWorkConsumedAsync(queue, Count);
        await bus.SendMarkersAsync(queue);

        bus.Probe.WorkConsumedIn(queue).Should().BeEquivalentTo(Enumerable.Range(0, Count), "each message is consumed by one of the four, once");
        bus.Probe.ConsumedIn(queue).Should().OnlyContain(d => d.Envelope.DeliveryCount == 1);
    }

    [Fact]
    public async Task A_consumed_message_is_acknowledged_and_not_delivered_again_to_the_next_bus_on_its_queue()
    {
        var queue = Name("invoices");
        await using (var first = await StartBusAsync(b => b.AddConsumedQueue(queue)))
        {
            await first.Publisher.SendAsync(queue, new Work(1));
            await first.Probe.WhenWorkConsumedAsync(queue, 1);

            var report = await first.StopAsync();

            report.Drained.Should().BeTrue();
        }

        await using var second = await StartBusAsync(b => b.AddConsumedQueue(queue));
        await second.SendMarkersAsync(queue);

        second.Probe.ConsumedIn(queue).Select(d => d.Message).Should().Equal(new Marker(queue));
    }

    [Fact]
    public async Task A_consumer_that_fails_twice_is_retried_and_consumed_with_delivery_count_three()
    {
        var queue = Name("payments");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: RetryPolicy.Interval(3, TimeSpan.FromMilliseconds(100))));

        await bus.Publisher.SendAsync(queue, new Work(1, Failures: 2));
        await bus.Probe.WhenWorkConsumedAsync(queue, 1);

        var delivery = bus.Probe.ConsumedIn(queue).Single();
        delivery.Envelope.DeliveryCount.Should().Be(3);
        bus.Probe.AttemptsAt(delivery.Envelope.MessageId).Should().Be(3);
        bus.Probe.DeadLettered.Should().BeEmpty();
    }

    [Fact]
    public async Task A_message_that_keeps_failing_is_dead_lettered_when_its_retries_run_out()
    {
        var queue = Name("payments");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: RetryPolicy.Interval(2, TimeSpan.FromMilliseconds(100))));

        await bus.Publisher.SendAsync(queue, new Work(1, Failures: int.MaxValue));
        await bus.Probe.WhenWorkDeadLetteredAsync(1);

        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message, deadLetter.Queue, deadLetter.Attempts).Should().Be((DeadLetterReason.MaxRetriesExceeded, (object)new Work(1, Failures: int.MaxValue), queue, 3));
        deadLetter.Error.Should().NotBeNull();
        (deadLetter.Error!.Type, deadLetter.Error.Message).Should().Be((typeof(InvalidOperationException).FullName!, "work 1 failed on attempt 3"));
        bus.Probe.AttemptsAt(deadLetter.Envelope.MessageId).Should().Be(3);
        bus.Probe.ConsumedIn(queue).Should().BeEmpty();
    }

    [Fact]
    public async Task A_rejected_message_is_dead_lettered_at_once_without_retries()
    {
        var queue = Name("imports");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: RetryPolicy.Immediate(3)));

        await bus.Publisher.SendAsync(queue, new Work(1, Reject: true));
        await bus.Probe.WhenWorkDeadLetteredAsync(1);

        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Description, deadLetter.Attempts).Should().Be((DeadLetterReason.Rejected, "work 1 is rejected", 1));
        bus.Probe.AttemptsAt(deadLetter.Envelope.MessageId).Should().Be(1);
    }

    [Fact]
    public async Task A_message_whose_time_to_live_runs_out_while_it_waits_is_dead_lettered_as_expired()
    {
        var queue = Name("quotes");
        var clock = Name("clock");
        var ticks = Name("ticks");
        await using var bus = await StartBusAsync(b => b
            .AddConsumedQueue(queue)
            .AddExchange(clock, ExchangeType.Fanout).AddConsumedQueue(ticks).Bind(clock, ticks));
        await bus.Publisher.SendAsync(queue, new Work(1, Gated: true));
        await bus.Probe.Gate.WhenArrivedAsync(1);

        await bus.Publisher.SendAsync(queue, new Work(2), new PublishOptions { TimeToLive = TimeSpan.FromMilliseconds(20) });
        await bus.Publisher.SendAsync(queue, new Work(3));

        // The bus's own scheduler lets the time pass: the tick that opens the gate comes due ten times the time to live
        // after the message was published, so the message has expired, wherever it waits, before anything can take it.
        await bus.Publisher.ScheduleAsync(new Tick(), TimeSpan.FromMilliseconds(200), new PublishOptions { Exchange = clock });
        await bus.Probe.WhenWorkConsumedAsync(queue, 2);

        bus.Probe.WorkConsumedIn(queue).Should().Equal(1, 3);
        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message, deadLetter.Attempts).Should().Be((DeadLetterReason.Expired, (object)new Work(2), 0));
    }

    [Fact]
    public async Task A_priority_queue_delivers_waiting_messages_highest_priority_first()
    {
        var queue = Name("assignments");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, q => q.MaxPriority = 10));
        await bus.Publisher.SendAsync(queue, new Work(0, Gated: true));
        await bus.Probe.Gate.WhenArrivedAsync(1);

        foreach (var (id, priority) in new (int, byte)[] { (1, 1), (2, 5), (3, 0), (4, 5), (5, 9) })
        {
            await bus.Publisher.SendAsync(queue, new Work(id), new PublishOptions { Priority = priority });
        }

        bus.Probe.Gate.Open();
        await bus.Probe.WhenWorkConsumedAsync(queue, 6);

        bus.Probe.WorkConsumedIn(queue).Should().Equal([0, 5, 2, 4, 1, 3], "highest priority first, and in order within a priority");
    }

    [Fact]
    public async Task A_request_gets_the_response_its_consumer_sends()
    {
        var requests = Name("requests");
        var queue = Name("answers");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(requests, ExchangeType.Fanout).MapMessage<Question>(requests)
            .AddConsumedQueue(queue).Bind(requests, queue));

        var answer = await bus.Publisher.RequestAsync<Question, Answer>(new Question(21), WaitLimit);

        answer.Should().Be(new Answer(21, 42));
    }

    [Fact]
    public async Task A_request_whose_consumer_throws_faults_with_RequestFaultException()
    {
        var requests = Name("requests");
        var queue = Name("answers");
        await using var bus = await StartBusAsync(b => b
            .AddExchange(requests, ExchangeType.Fanout).MapMessage<Question>(requests)
            .AddConsumedQueue(queue).Bind(requests, queue));

        var request = () => bus.Publisher.RequestAsync<Question, Answer>(new Question(7, Fail: true), WaitLimit);

        (await request.Should().ThrowAsync<RequestFaultException>()).Which.Message.Should().Contain("question 7 cannot be answered");
        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message).Should().Be((DeadLetterReason.Failed, (object)new Question(7, Fail: true)));
    }

    [Fact]
    public async Task A_request_that_no_queue_is_bound_for_throws_UnroutableMessageException()
    {
        var requests = Name("requests");
        await using var bus = await StartBusAsync(b => b.AddExchange(requests, ExchangeType.Fanout).MapMessage<Question>(requests));

        var request = () => bus.Publisher.RequestAsync<Question, Answer>(new Question(1), WaitLimit);

        (await request.Should().ThrowAsync<UnroutableMessageException>()).Which.MessageType.Should().Be<Question>();
    }

    [Fact]
    public async Task A_binding_added_at_run_time_routes_until_it_is_removed()
    {
        var events = Name("events");
        var queue = Name("audit");
        await using var bus = await StartBusAsync(b => b.AddExchange(events, ExchangeType.Direct).AddConsumedQueue(queue));
        var binding = new Binding(events, queue, "created");
        var beforeBind = async () => await PublishAsync(bus, new Work(1), events, "created", mandatory: true);
        await beforeBind.Should().ThrowAsync<UnroutableMessageException>();

        bus.Bus.Topology.Bind(binding).Should().BeTrue();
        await PublishAsync(bus, new Work(2), events, "created", mandatory: true);
        await bus.Probe.WhenWorkConsumedAsync(queue, 1);
        bus.Bus.Topology.Unbind(binding).Should().BeTrue();

        var afterUnbind = async () => await PublishAsync(bus, new Work(3), events, "created", mandatory: true);
        await afterUnbind.Should().ThrowAsync<UnroutableMessageException>();
        await bus.SendMarkersAsync(queue);
        bus.Probe.WorkConsumedIn(queue).Should().Equal(2);
    }

    [Fact]
    public async Task A_stop_that_cannot_wait_for_its_consumer_accounts_for_every_message_exactly_once()
    {
        // The stop does not wait (StopTimeout zero): the consumer held at the gate is cancelled with six messages
        // behind it. Each message ends once: consumed before the stop, or reported by the stop (and dead-lettered as
        // BusStopped), or (on a durable transport) kept for the next bus on the queue, which consumes it.
        var queue = Name("orders");
        var first = await StartBusAsync(b => b.AddConsumedQueue(queue).Configure(o => o.StopTimeout = TimeSpan.Zero));
        DrainReport report;
        await using (first)
        {
            for (var id = 0; id < 3; id++)
            {
                await first.Publisher.SendAsync(queue, new Work(id));
            }

            await first.Probe.WhenWorkConsumedAsync(queue, 3);
            await first.Publisher.SendAsync(queue, new Work(3, Gated: true));
            await first.Probe.Gate.WhenArrivedAsync(1);
            for (var id = 4; id < 10; id++)
            {
                await first.Publisher.SendAsync(queue, new Work(id));
            }

            report = await first.StopAsync();
        }

        // The gated message, if the transport kept it, passes on the second bus.
        await using var second = await StartBusAsync(b => b.AddConsumedQueue(queue), first);
        second.Probe.Gate.Open();
        await second.SendMarkersAsync(queue);

        var consumedFirst = first.Probe.WorkConsumedIn(queue);
        var reported = report.Unprocessed.Select(u => ((Work)u.Envelope.Message).Id).ToList();
        var consumedSecond = second.Probe.WorkConsumedIn(queue);
        report.Drained.Should().BeFalse();
        consumedFirst.Should().Equal(0, 1, 2);
        consumedFirst.Concat(reported).Concat(consumedSecond).Should().BeEquivalentTo(Enumerable.Range(0, 10), "every message ends once, on one bus");
        first.Probe.DeadLettered.Select(d => (((Work)d.Message).Id, d.Reason)).Should().BeEquivalentTo(reported.Select(id => (id, DeadLetterReason.BusStopped)));
        if (KeepsUnprocessedMessages)
        {
            reported.Should().BeEmpty("the transport keeps what the stopping bus did not process");
            consumedSecond.Should().BeEquivalentTo(Enumerable.Range(3, 7));
        }
        else
        {
            reported.Should().BeEquivalentTo(Enumerable.Range(3, 7));
            consumedSecond.Should().BeEmpty("nothing outlives the bus in this transport");
        }
    }

    [Fact]
    public async Task A_stop_lets_the_consumer_in_flight_finish_and_the_next_bus_consumes_the_rest_exactly_once()
    {
        var queue = Name("orders");
        var first = await StartBusAsync(b => b.AddConsumedQueue(queue));
        DrainReport report;
        await using (first)
        {
            await first.Publisher.SendAsync(queue, new Work(0, Gated: true));
            await first.Probe.Gate.WhenArrivedAsync(1);
            for (var id = 1; id < 10; id++)
            {
                await first.Publisher.SendAsync(queue, new Work(id));
            }

            var stopping = first.Bus.StopAsync();
            first.Probe.Gate.Open();
            report = await stopping.WaitAsync(WaitLimit);
        }

        await using var second = await StartBusAsync(b => b.AddConsumedQueue(queue), first);
        await second.SendMarkersAsync(queue);

        var consumedFirst = first.Probe.WorkConsumedIn(queue);
        var consumedSecond = second.Probe.WorkConsumedIn(queue);
        (report.Drained, report.Unprocessed.Count).Should().Be((true, 0));
        consumedFirst.Should().StartWith(0);
        consumedFirst.Concat(consumedSecond).Should().Equal(Enumerable.Range(0, 10), "each message is consumed once, in order, by one bus or the next");
        if (!KeepsUnprocessedMessages)
        {
            consumedSecond.Should().BeEmpty();
        }
    }

    [Fact]
    public async Task A_message_waiting_for_a_delayed_retry_when_the_bus_stops_is_reported_or_kept_for_the_next_bus()
    {
        // The retry waits 250 ms; the stop does not wait for it (StopTimeout zero). In memory the stop reports it; a
        // durable transport keeps it, and returns it to its queue when due, for the next bus.
        var queue = Name("payments");
        var retryPolicy = RetryPolicy.Interval(1, TimeSpan.FromMilliseconds(250));
        var first = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: retryPolicy).Configure(o => o.StopTimeout = TimeSpan.Zero));
        DrainReport report;
        await using (first)
        {
            await first.Publisher.SendAsync(queue, new Work(1, Failures: 1));
            await first.Probe.WhenAsync(() => first.Probe.Retrying.Count == 1, "work 1 waiting for its retry");

            report = await first.StopAsync();
        }

        await using var second = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: retryPolicy), first);
        if (KeepsUnprocessedMessages)
        {
            await second.Probe.WhenWorkConsumedAsync(queue, 1);
        }

        await second.SendMarkersAsync(queue);
        var reported = report.Unprocessed.Select(u => ((Work)u.Envelope.Message).Id).ToList();
        var consumed = second.Probe.ConsumedIn(queue).Where(d => d.Message is Work).ToList();
        first.Probe.WorkConsumedIn(queue).Should().BeEmpty();
        reported.Concat(consumed.Select(d => ((Work)d.Message).Id)).Should().Equal([1], "the message ends once, on one bus");
        first.Probe.DeadLettered.Select(d => (((Work)d.Message).Id, d.Reason)).Should().BeEquivalentTo(reported.Select(id => (id, DeadLetterReason.BusStopped)));
        consumed.Should().NotContain(d => d.Envelope.DeliveryCount != 2, "the retry is the second delivery");
    }

    [Fact]
    public async Task Under_concurrent_consumers_failures_and_retries_every_message_ends_exactly_once()
    {
        const int Count = 500;
        var queue = Name("ledger");
        var random = new Random(20261205);
        var plans = Enumerable.Range(0, Count).Select(id => random.Next(10) switch
        {
            < 6 => new Work(id),
            6 => new Work(id, Failures: 1),
            7 => new Work(id, Failures: 2),
            8 => new Work(id, Failures: int.MaxValue),
            _ => new Work(id, Reject: true),
        }).ToList();
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, q => q.Concurrency = 8, RetryPolicy.Interval(2, TimeSpan.FromMilliseconds(100))));

        await Task.WhenAll(plans.Select(work => bus.Publisher.SendAsync(queue, work).AsTask()));
        await bus.Probe.WhenAsync(
            () => bus.Probe.WorkConsumedIn(queue).Count + bus.Probe.DeadLettered.Count >= Count,
            $"{Count} messages consumed or dead-lettered");
        var report = await bus.StopAsync();

        (report.Drained, report.Unprocessed.Count).Should().Be((true, 0));
        var consumed = bus.Probe.ConsumedIn(queue);
        var deadLettered = bus.Probe.DeadLettered;
        consumed.Select(d => ((Work)d.Message).Id).Should().OnlyHaveUniqueItems()
            .And.BeEquivalentTo(plans.Where(w => !w.Reject && w.Failures <= 2).Select(w => w.Id));
        deadLettered.Select(d => ((Work)d.Message).Id).Should().OnlyHaveUniqueItems();
        deadLettered.Select(d => (((Work)d.Message).Id, d.Reason, d.Attempts)).Should().BeEquivalentTo(
            plans.Where(w => w.Reject || w.Failures > 2).Select(w => (w.Id, w.Reject ? DeadLetterReason.Rejected : DeadLetterReason.MaxRetriesExceeded, w.Reject ? 1 : 3)));
        consumed.Should().OnlyContain(d => d.Envelope.DeliveryCount == ((Work)d.Message).Failures + 1);
        var messageIds = consumed.Select(d => d.Envelope).Concat(deadLettered.Select(d => d.Envelope)).ToDictionary(e => ((Work)e.Message).Id, e => e.MessageId);
        plans.Select(w => (w.Id, bus.Probe.AttemptsAt(messageIds[w.Id]))).Should().Equal(
            plans.Select(w => (w.Id, w.Reject ? 1 : Math.Min(w.Failures, 2) + 1)),
            "the consumer is called once per delivery: a rejection ends a message at once, a failure is retried twice");
    }

    [Fact]
    public async Task A_message_whose_time_to_live_runs_out_while_it_waits_for_a_retry_is_dead_lettered_as_expired()
    {
        await RequireTransportAsync();
        var queue = Name("quotes");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue, retryPolicy: RetryPolicy.Interval(1, TimeSpan.FromMilliseconds(250))));

        await bus.Publisher.SendAsync(queue, new Work(1, Failures: 1), new PublishOptions { TimeToLive = TimeSpan.FromMilliseconds(100) });
        await bus.Probe.WhenAsync(() => bus.Probe.WorkConsumedIn(queue).Count + bus.Probe.DeadLettered.Count > 0, "work 1 consumed or dead-lettered");

        bus.Probe.WorkConsumedIn(queue).Should().BeEmpty("its retry came due 250 ms after it was published, and it had 100 ms to live");
        bus.Probe.DeadLettered.Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.Expired);
    }

    [Fact]
    public async Task A_queue_deleted_at_run_time_lets_its_consumer_finish_and_accounts_for_every_message_once()
    {
        await RequireTransportAsync();
        var queue = Name("audit");
        await using var bus = await StartBusAsync(b => b.AddConsumedQueue(queue));
        await bus.Publisher.SendAsync(queue, new Work(0, Gated: true));
        await bus.Probe.Gate.WhenArrivedAsync(1);
        for (var id = 1; id < 6; id++)
        {
            await bus.Publisher.SendAsync(queue, new Work(id));
        }

        var deleting = bus.Bus.Topology.DeleteQueueAsync(queue);
        bus.Probe.Gate.Open();
        var report = await deleting.WaitAsync(WaitLimit);

        var consumed = bus.Probe.WorkConsumedIn(queue);
        var reported = report.Unprocessed.Select(u => ((Work)u.Envelope.Message).Id).ToList();
        consumed.Should().StartWith(0);
        consumed.Concat(reported).Should().BeEquivalentTo(Enumerable.Range(0, 6), "a deleted queue's messages are consumed or reported, none lost");
        bus.Probe.DeadLettered.Select(d => (((Work)d.Message).Id, d.Reason)).Should().BeEquivalentTo(reported.Select(id => (id, DeadLetterReason.QueueDeleted)));
    }
}
