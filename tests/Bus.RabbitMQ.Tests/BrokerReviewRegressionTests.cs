using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Bus.RabbitMQ.Tests.Support;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// Regression tests for the defects a review of the RabbitMQ transport found (its experiments E1–E9 and the replay
/// window): each failed before its fix.
/// </summary>
public sealed class BrokerReviewRegressionTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    // E1: the returning retry is in the dead-letter queue, but read as Expired: the store reads x-first-death-reason,
    // which is the wait queue's "expired", not the main queue's "maxlen".
    [Fact]
    public async Task A_delayed_retry_returning_to_a_full_rejecting_queue_is_read_from_the_store_as_overflow()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("reject-retry");
        var gate = new Gate();
        var behaviour = new Behaviour<Order>(async (context, _) =>
        {
            switch (context.Message.Id)
            {
                case 1:
                    throw new InvalidOperationException("the first attempt fails");
                case 2:
                    await gate.PassAsync();
                    break;
            }
        });
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b
                .AddQueue(queue, q => (q.Capacity, q.FullMode, q.Concurrency, q.PrefetchCount) = (1, QueueFullMode.Reject, 1, 1))
                .AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(1, TimeSpan.FromSeconds(1)))),
            s => s.AddSingleton(behaviour));
        await bus.Bus.SendAsync(queue, new Order(1));
        await bus.Probe.Retrying.WhenCountAsync(1);
        await bus.Bus.SendAsync(queue, new Order(2));
        await gate.WhenArrivedAsync(1);
        await bus.Bus.SendAsync(queue, new Order(3));
        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters") == 1, "the returning retry dead-lettered by the broker");
        gate.Open();

        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        deadLetter.Reason.Should().Be(DeadLetterReason.Overflow);
        deadLetter.Description.Should().Contain("maxlen");
    }

    // E7, E11: every failed restart of the consumer (its queue missing) queues one more OpenAsync; when the queue is
    // back, each opens its own channel and consumer; deliveries on all but the last are never acknowledged.
    [Fact]
    public async Task A_consumer_whose_restarts_failed_while_its_queue_was_missing_comes_back_as_one_consumer_that_acknowledges_what_it_consumes()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("missing");
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            rabbit: o => o.RecoveryInterval = TimeSpan.FromMilliseconds(100));
        var arguments = (await vhost.QueueArgumentsAsync(queue)).ToDictionary(a => a.Key, a => a.Value.ValueKind == JsonValueKind.String ? (object?)a.Value.GetString() : a.Value.GetInt64());
        await using var connection = await vhost.ConnectAsync();
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(queue);
        }

        // The log is the only sign of a failed restart.
        await Poll.UntilAsync(() => Task.FromResult(bus.Logs.Lines.Count(l => l.EventId == 1004) >= 3), "three restarts failed");
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
        }

        for (var id = 1; id <= 20; id++)
        {
            await bus.Bus.SendAsync(queue, new Order(id));
        }

        await bus.Probe.Consumed.WhenCountAsync(20);
        await using (var channel = await connection.CreateChannelAsync())
        {
            (await channel.QueueDeclarePassiveAsync(queue)).ConsumerCount.Should().Be(1u);
        }

        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0, "every message consumed was acknowledged; none comes back for the next instance");
    }

    // E11: a queue declared while the bus was starting was never declared on the broker, and its consumer's message type,
    // unknown to the codec built at the start, was dead-lettered as UnknownMessageType.
    [Fact]
    public async Task A_queue_and_consumer_declared_while_the_bus_starts_are_declared_on_the_broker_and_consumed()
    {
        await RabbitMqBroker.RequireAsync();
        var late = Names.Unique("late");
        await using var bus = RabbitBus.Create(vhost, b => b.AddQueue(Names.Unique("early")));
        var starting = bus.Bus.StartAsync();
        bus.Bus.Topology.DeclareQueue(late);
        bus.Bus.Topology.AddConsumer<TestConsumer<Order>>(late);
        await starting.WaitAsync(BrokerVhost.Timeout);

        (await vhost.QueueExistsAsync(late)).Should().BeTrue();
        await bus.Bus.SendAsync(late, new Order(1));
        await bus.Probe.Consumed.WhenCountAsync(1);
    }

    // A consumer added at run time, of a message type no consumer had at the start, reads its messages: the codec
    // learns the type when the consumer is added.
    [Fact]
    public async Task A_consumer_added_at_run_time_reads_a_message_type_the_bus_did_not_know_at_the_start()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("runtime");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(Names.Unique("other")));

        bus.Bus.Topology.DeclareQueue(queue);
        bus.Bus.Topology.AddConsumer<TestConsumer<Order>>(queue);
        await bus.Bus.SendAsync(queue, new Order(7));

        (await bus.Probe.Consumed.WhenCountAsync(1))[0].Message.Should().Be(new Order(7));
        bus.Probe.DeadLettered.All.Should().BeEmpty();
    }

    /// <summary>The transport's log events these tests count.</summary>
    private const int ConsumerFailedEvent = 1004;
    private const int DeliveryFailedEvent = 1007;
    private const int ConsumerLostEvent = 1009;

    private static void Report(string line) => TestContext.Current.TestOutputHelper?.WriteLine(line);

    // E1: a Reject queue was declared with x-overflow reject-publish, which makes the broker drop, without a trace, a
    // message dead-lettered into the full queue: a delayed retry coming back from its wait queue was lost.
    [Fact]
    public async Task A_delayed_retry_returning_to_a_full_rejecting_queue_is_kept_in_the_dead_letter_queue_instead_of_dropped()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("reject-retry");
        var gate = new Gate();
        var behaviour = new Behaviour<Order>(async (context, _) =>
        {
            switch (context.Message.Id)
            {
                case 1:
                    throw new InvalidOperationException("the first attempt fails");
                case 2:
                    // Holds the queue's only consumer slot, so the next message stays ready in the broker.
                    await gate.PassAsync();
                    break;
            }
        });
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b
                .AddQueue(queue, q => (q.Capacity, q.FullMode, q.Concurrency, q.PrefetchCount) = (1, QueueFullMode.Reject, 1, 1))
                .AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(1, TimeSpan.FromSeconds(1)))),
            s => s.AddSingleton(behaviour));

        await bus.Bus.SendAsync(queue, new Order(1));
        var retry = (await bus.Probe.Retrying.WhenCountAsync(1))[0];

        // Within the retry's second: the slot is busy with 2, and 3 fills the queue (a capacity counts ready messages).
        await bus.Bus.SendAsync(queue, new Order(2));
        await gate.WhenArrivedAsync(1);
        await bus.Bus.SendAsync(queue, new Order(3));
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(1, "the queue is full when the retry comes due");

        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters") == 1, "the returning retry dead-lettered by the broker");
        gate.Open();
        await bus.Probe.Consumed.WhenCountAsync(2);

        var deadLetter = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        Report($"dead letter: {deadLetter.Message} {deadLetter.Reason} ({deadLetter.Description}), attempts {deadLetter.Attempts}");
        deadLetter.Message.Should().Be(new Order(1));
        deadLetter.Envelope.MessageId.Should().Be(retry.Envelope.MessageId);
        deadLetter.Attempts.Should().Be(1);
        behaviour.Calls.All.Where(c => c.Message is Order { Id: 1 }).Should().ContainSingle("the retry never reached the consumer");
        bus.Probe.Consumed.All.Select(o => o.Message).Should().BeEquivalentTo([new Order(2), new Order(3)]);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.retry.1000ms")).Should().Be(0);
    }

    // E1: quorum queues have no reject-publish-dlx, so a Reject quorum queue would still drop a returning retry.
    [Fact]
    public async Task A_rejecting_quorum_queue_is_refused_at_the_start_naming_the_queue()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("quorum-reject");
        await using var bus = RabbitBus.Create(
            vhost,
            b => b.AddQueue(queue, q => (q.Capacity, q.FullMode) = (10, QueueFullMode.Reject)),
            rabbit: o => o.QueueType = RabbitMqQueueType.Quorum);

        var resolve = () => bus.Bus;

        resolve.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>()
            .Which.Message.Should().Contain($"Queue '{queue}'").And.Contain("Reject").And.Contain("quorum");
        (await vhost.QueueExistsAsync(queue)).Should().BeFalse();
    }

    // A delayed retry the broker would not take (its wait queue gone) was acknowledged and waited in this process's
    // memory instead: a crash before it came due lost it. It is now retried at once, its delivery still held.
    [Fact]
    public async Task A_delayed_retry_the_broker_refuses_is_retried_at_once()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("refused-retry");
        var wait = $"{queue}.retry.250ms";
        var gate = new Gate();
        var behaviour = new Behaviour<Order>(async (context, _) =>
        {
            switch (context.DeliveryCount)
            {
                case 1:
                    throw new InvalidOperationException("the first attempt fails");
                case 2:
                    await gate.PassAsync();
                    throw new InvalidOperationException("the second attempt fails, its wait queue gone");
            }
        });
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(2, TimeSpan.FromMilliseconds(250)))),
            s => s.AddSingleton(behaviour));
        await bus.Bus.SendAsync(queue, new Order(1));

        // The second attempt (back from the wait queue) holds while the wait queue is deleted behind the bus's back.
        await gate.WhenArrivedAsync(1);
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(wait);
        }

        gate.Open();

        var consumed = (await bus.Probe.Consumed.WhenCountAsync(1))[0];
        behaviour.Calls.All.Select(c => c.DeliveryCount).Should().Equal(1, 2, 3);
        consumed.DeliveryCount.Should().Be(3);
        bus.Probe.Retrying.All.Select(r => r.Delay).Should().Equal(TimeSpan.FromMilliseconds(250), TimeSpan.Zero);
        bus.Logs.Lines.Should().ContainSingle(l => l.EventId == 45, "the refused forward is logged");
        bus.Probe.DeadLettered.All.Should().BeEmpty();
        (await vhost.QueueExistsAsync(wait)).Should().BeFalse("the retry did not wait in the broker");
        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
    }

    // E2: deleting a queue took only the wait queues this process had declared: a retry another instance had sent to
    // wait was neither reported nor dead-lettered, and later expired into a queue that no longer existed.
    [Fact]
    public async Task Deleting_a_queue_reports_and_dead_letters_a_retry_another_instance_left_waiting_in_the_broker()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("delete-retry");
        var wait = $"{queue}.retry.30000ms";
        var failing = new Behaviour<Order>((_, _) => throw new InvalidOperationException("the other instance fails it"));
        var other = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(1, TimeSpan.FromSeconds(30)))),
            s => s.AddSingleton(failing));
        await other.Bus.SendAsync(queue, new Order(1));
        var retry = (await other.Probe.Retrying.WhenCountAsync(1))[0];
        (await other.StopAsync()).Unprocessed.Should().BeEmpty("the retry waits in the broker");
        await other.DisposeAsync();
        (await vhost.CountReadyViaAmqpAsync(wait)).Should().Be(1);

        await using var bus = await RabbitBus.StartAsync(vhost, b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue));
        var report = await bus.Bus.Topology.DeleteQueueAsync(queue).WaitAsync(BrokerVhost.Timeout);

        var unprocessed = report.Unprocessed.Should().ContainSingle().Subject;
        unprocessed.Envelope.MessageId.Should().Be(retry.Envelope.MessageId);
        unprocessed.Envelope.Message.Should().Be(new Order(1));
        var deadLetter = bus.Probe.DeadLettered.All.Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Envelope.MessageId).Should().Be((DeadLetterReason.QueueDeleted, retry.Envelope.MessageId));
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle()
            .Which.Reason.Should().Be(DeadLetterReason.QueueDeleted);
        (await vhost.QueueExistsAsync(wait)).Should().BeFalse("the wait queue went with its queue");
        (await vhost.QueueExistsAsync(queue)).Should().BeFalse();
        bus.Logs.Lines.Should().NotContain(l => l.EventId == ConsumerLostEvent || l.EventId == ConsumerFailedEvent, "the deleted queue's consumer was closed, not restarted");
    }

    // E3: after the transport stopped, a publish found no channel and tried again in a tight loop until PublishTimeout,
    // spinning a CPU: a consumer the stop abandoned that answered its request then hung for the whole timeout.
    [Fact]
    public async Task A_response_from_a_consumer_the_stop_abandoned_fails_at_once_instead_of_waiting_out_the_publish_timeout()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("abandoned"));
        var gate = new Gate();
        var outcome = new TaskCompletionSource<(Exception? Error, TimeSpan Elapsed)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var late = new Behaviour<Quote>(async (context, _) =>
        {
            // Ignores its token: the stop gives up on it, and it answers after the bus has stopped.
            await gate.PassAsync();
            var started = Stopwatch.GetTimestamp();
            try
            {
                await context.RespondAsync(new Price(context.Message.Id, 1m));
                outcome.TrySetResult((null, Stopwatch.GetElapsedTime(started)));
            }
            catch (Exception exception)
            {
                outcome.TrySetResult((exception, Stopwatch.GetElapsedTime(started)));
            }
        });
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b =>
            {
                b.Configure(o => o.StopTimeout = TimeSpan.FromMilliseconds(200));
                b.AddExchange(exchange, Bus.ExchangeType.Fanout).MapMessage<Quote>(exchange);
                b.AddConsumer<TestConsumer<Quote>>(c => c.Queue = queue);
            },
            s => s.AddSingleton(late),
            o => o.PublishTimeout = TimeSpan.FromSeconds(10));
        using var requester = new CancellationTokenSource();
        var request = bus.Bus.RequestAsync<Quote, Price>(new Quote(1), TimeSpan.FromSeconds(10), requester.Token);
        await gate.WhenArrivedAsync(1);

        await bus.StopAsync();
        gate.Open();
        var (error, elapsed) = await outcome.Task.WaitAsync(BrokerVhost.Timeout);

        // The requester gives up (its bus has stopped: no response can reach it).
        await requester.CancelAsync();
        await Record.ExceptionAsync(() => request.WaitAsync(BrokerVhost.Timeout));
        Report($"the late response: {error?.GetType().Name ?? "no error"} after {elapsed.TotalMilliseconds:F0} ms");
        error.Should().Match<Exception>(e => e is TransportUnavailableException || e is BusNotRunningException);
        elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "a stopped transport refuses at once (the publish timeout is 10 s)");
    }

    // E4: a dead-letter browse holds what it has read (unacknowledged) until it ends, so a second browse at the same
    // moment saw only part of the queue: concurrent queries and gets missed dead letters.
    [Fact]
    public async Task Concurrent_dead_letter_queries_and_gets_each_see_every_dead_letter()
    {
        await RabbitMqBroker.RequireAsync();
        const int Count = 50;
        var queue = Names.Unique("browse");
        var rejecting = new Behaviour<Order>((context, _) =>
        {
            context.Reject("poison");
            return ValueTask.CompletedTask;
        });
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(rejecting));
        for (var id = 1; id <= Count; id++)
        {
            await bus.Bus.SendAsync(queue, new Order(id));
        }

        var stored = await bus.Probe.DeadLettered.WhenCountAsync(Count);
        var (first, last) = (stored[0].Id, stored[^1].Id);
        var query = new DeadLetterQuery { Queue = queue };

        for (var round = 0; round < 5; round++)
        {
            var queries = Enumerable.Range(0, 3).Select(_ => bus.DeadLetters.QueryAsync(query).AsTask()).ToList();
            var gets = new[] { bus.DeadLetters.GetAsync(first).AsTask(), bus.DeadLetters.GetAsync(last).AsTask() };
            await Task.WhenAll(Task.WhenAll(queries), Task.WhenAll(gets)).WaitAsync(BrokerVhost.Timeout);

            foreach (var result in queries)
            {
                (await result).Select(d => ((Order)d.Message).Id).Should().BeEquivalentTo(Enumerable.Range(1, Count), $"round {round}: every query sees every dead letter");
            }

            foreach (var get in gets)
            {
                (await get).Should().NotBeNull($"round {round}: a get finds its dead letter while others browse");
            }
        }

        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(Count, "browsing takes nothing");
    }

    // E7: when the broker cancelled the bus's consumer (its queue deleted and declared again behind the bus's back),
    // nothing started it again: the queue was never consumed until the process restarted.
    [Fact]
    public async Task A_consumer_the_broker_cancelled_when_its_queue_was_deleted_and_declared_again_consumes_again()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("redeclared");
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            rabbit: o => o.RecoveryInterval = TimeSpan.FromMilliseconds(200));
        await bus.Bus.SendAsync(queue, new Order(1));
        await bus.Probe.Consumed.WhenCountAsync(1);
        var arguments = (await vhost.QueueArgumentsAsync(queue)).ToDictionary(a => a.Key, a => FromJson(a.Value));

        // An operator deletes the queue and declares it again, as the bus had.
        await using (var connection = await vhost.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false, arguments);
        }

        await bus.Bus.SendAsync(queue, new Order(2));

        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 2 });
        Report(string.Join(Environment.NewLine, bus.Logs.AtLeast(LogLevel.Warning)));
        bus.Logs.Lines.Should().Contain(l => l.EventId == ConsumerLostEvent && l.Message.Contains(queue, StringComparison.Ordinal), "the restart is logged");
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
    }

    // E9: a delivery whose AMQP timestamp another client set in milliseconds (past the last second a DateTimeOffset
    // holds) threw in the consumer's callback and was requeued, delivered again at once, and so on forever.
    [Fact]
    public async Task A_message_whose_amqp_timestamp_is_in_milliseconds_is_consumed_once_stamped_with_its_arrival()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("ms-timestamp");
        var behaviour = new Behaviour<Order>((_, _) => ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(behaviour));
        var properties = new BasicProperties
        {
            Type = bus.Bus.Topology.GetExchangeName<Order>(),
            ContentType = "application/json",
            Timestamp = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()),
        };
        await using var connection = await vhost.ConnectAsync();
        var sent = DateTimeOffset.UtcNow;

        await BrokerApi.PublishRawAsync(connection, queue, properties, Encoding.UTF8.GetBytes("{\"Id\":1}"));

        var consumed = (await bus.Probe.Consumed.WhenCountAsync(1))[0];
        // A message sent after it is consumed: the queue moved on past the first.
        await bus.Bus.SendAsync(queue, new Order(2));
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 2 });

        Report($"consumed {consumed.Message}, stamped {consumed.Envelope.Timestamp:O} (sent {sent:O})");
        consumed.Message.Should().Be(new Order(1));
        consumed.Envelope.Timestamp.Should().BeCloseTo(sent, TimeSpan.FromMinutes(1), "a timestamp past year 9999 is ignored");
        behaviour.Calls.All.Select(c => c.Message).Should().Equal(new Order(1), new Order(2));
        bus.Logs.Lines.Should().NotContain(l => l.EventId == DeliveryFailedEvent, "the delivery was read, not requeued in a loop");
        bus.Probe.DeadLettered.All.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
    }

    // E9: a delivery with a header the bus cannot read (an AMQP timestamp in milliseconds, which no DateTimeOffset holds)
    // threw in the consumer's callback and was requeued, delivered again at once, and so on forever.
    [Fact]
    public async Task A_message_whose_properties_cannot_be_read_is_dead_lettered_as_malformed_with_its_raw_body_without_reaching_the_consumer()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("unreadable");
        var behaviour = new Behaviour<Order>((_, _) => ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(behaviour));
        var body = Encoding.UTF8.GetBytes("{\"Id\":1}");
        var properties = new BasicProperties
        {
            Type = bus.Bus.Topology.GetExchangeName<Order>(),
            ContentType = "application/json",
            Headers = new Dictionary<string, object?> { ["sent-at"] = new AmqpTimestamp(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()) },
        };
        await using var connection = await vhost.ConnectAsync();

        await BrokerApi.PublishRawAsync(connection, queue, properties, body);

        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        // A message sent after it is consumed: the queue moved on past the unreadable one.
        await bus.Bus.SendAsync(queue, new Order(2));
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 2 });

        Report($"dead letter: {deadLetter.Reason} ({deadLetter.Description})");
        deadLetter.Reason.Should().Be(DeadLetterReason.Malformed);
        deadLetter.Message.Should().BeOfType<byte[]>().Which.Should().Equal(body, "it is kept as it arrived");
        behaviour.Calls.All.Should().ContainSingle().Which.Message.Should().Be(new Order(2), "the unreadable message never reached the consumer");
        bus.Logs.Lines.Should().NotContain(l => l.EventId == DeliveryFailedEvent, "the delivery was settled, not requeued in a loop");
        bus.Probe.DeadLettered.Count.Should().Be(1);
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0);
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle()
            .Which.Reason.Should().Be(DeadLetterReason.Malformed);
    }

    // Replay (#8): a replay over the broker took the dead letter out of its dead-letter queue before publishing it, and
    // put a copy back when the publish failed: for that moment it was in neither place (a crash then lost it), and it
    // came back at the end of the queue.
    [Fact]
    public async Task A_replay_whose_publish_fails_leaves_the_dead_letter_in_the_store_where_it_was()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("replay-fails");
        var missing = Names.Unique("no-such-queue");
        var fixedNow = false;
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue),
            s => s.AddSingleton(new Behaviour<Order>((_, _) => Volatile.Read(ref fixedNow) ? ValueTask.CompletedTask : throw new InvalidOperationException("down"))));
        await bus.Bus.SendAsync(queue, new Order(1));
        await bus.Bus.SendAsync(queue, new Order(2));
        var deadLetters = await bus.Probe.DeadLettered.WhenCountAsync(2);
        var older = deadLetters.Single(d => d.Message is Order { Id: 1 });

        var replay = () => bus.Bus.ReplayAsync(older.Id, missing);

        (await replay.Should().ThrowAsync<UnroutableMessageException>()).Which.Message.Should().Contain(missing);
        (await bus.DeadLetters.GetAsync(older.Id)).Should().NotBeNull();
        await using var connection = await vhost.ConnectAsync();
        var held = await vhost.PeekAllAsync(connection, $"{queue}.dead-letters");
        held.Select(m => m.BasicProperties.Header("bus-dead-letter-id")).Should().Equal(
            [older.Id.ToString(), deadLetters.Single(d => d.Message is Order { Id: 2 }).Id.ToString()],
            "the dead letter never left its dead-letter queue (a copy put back would be behind the other)");
        (await vhost.QueueExistsAsync(missing)).Should().BeFalse();

        // It can still be replayed where it belongs.
        Volatile.Write(ref fixedNow, true);
        (await bus.Bus.ReplayAsync(older.Id)).Should().BeTrue();
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 1 });
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(1);
    }

    /// <summary>A queue argument as the management API shows it, as the client declares it.</summary>
    private static object? FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetInt64(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new NotSupportedException($"A queue argument of kind {value.ValueKind}."),
    };
}
