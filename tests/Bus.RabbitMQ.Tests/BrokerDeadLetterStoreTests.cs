using Bus.RabbitMQ.Tests.Support;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// The dead-letter store over the broker: each queue's dead letters wait in <c>{queue}.dead-letters</c>, with the bus's
/// reason, attempts and error in headers; the store queries, gets, replays and purges them there.
/// </summary>
public sealed class BrokerDeadLetterStoreTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    /// <summary>A consumer that fails odd ids (a thrown error) and rejects ids over 100, until the test fixes it.</summary>
    private sealed class Failing
    {
        public volatile bool Fixed;

        public Behaviour<Order> Behaviour => new((context, _) =>
        {
            if (Fixed)
            {
                return ValueTask.CompletedTask;
            }

            if (context.Message.Id > 100)
            {
                context.Reject($"order {context.Message.Id} is not ours");
                return ValueTask.CompletedTask;
            }

            return context.Message.Id % 2 == 1 ? throw new InvalidOperationException($"order {context.Message.Id} failed") : ValueTask.CompletedTask;
        });
    }

    private async Task<(RabbitBus Bus, Failing Failing)> StartAsync(params string[] queues)
    {
        var failing = new Failing();
        var bus = await RabbitBus.StartAsync(
            vhost,
            b =>
            {
                foreach (var queue in queues)
                {
                    b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => c.Queue = queue);
                }
            },
            s => s.AddSingleton(failing.Behaviour));
        return (bus, failing);
    }

    [Fact]
    public async Task Dead_letters_are_queried_by_queue_and_reason_from_the_dead_letter_queues()
    {
        await RabbitMqBroker.RequireAsync();
        var (first, second) = (Names.Unique("first"), Names.Unique("second"));
        var (bus, _) = await StartAsync(first, second);
        await using var _ = bus;

        foreach (var id in new[] { 1, 2, 3, 101 })
        {
            await bus.Bus.SendAsync(first, new Order(id));
        }

        await bus.Bus.SendAsync(second, new Order(5));
        await bus.Probe.DeadLettered.WhenCountAsync(4);

        (await bus.DeadLetters.QueryAsync()).Select(d => ((Order)d.Message).Id).Should().BeEquivalentTo([1, 3, 101, 5]);
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = first })).Select(d => ((Order)d.Message).Id).Should().BeEquivalentTo([1, 3, 101]);
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = first, Reason = DeadLetterReason.Rejected }))
            .Should().ContainSingle().Which.Message.Should().Be(new Order(101));
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Reason = DeadLetterReason.Failed })).Should().HaveCount(3);
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { MessageType = typeof(Order), Limit = 2 })).Should().HaveCount(2);
        bus.DeadLetters.Count.Should().Be(4);
        (await vhost.CountReadyViaAmqpAsync($"{first}.dead-letters")).Should().Be(3, "reading is browsing: the dead letters stay");
        (await vhost.CountReadyViaAmqpAsync($"{second}.dead-letters")).Should().Be(1);
    }

    [Fact]
    public async Task A_dead_letter_keeps_its_reason_attempts_and_error_in_headers_and_comes_back_whole()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("headers");
        var (bus, _) = await StartAsync(queue);
        await using var _ = bus;
        var correlationId = Guid.NewGuid();

        await bus.Bus.SendAsync(queue, new Order(7), new PublishOptions { CorrelationId = correlationId, Headers = new Dictionary<string, object?> { ["tenant"] = "acme" } });
        var observed = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];

        var stored = await bus.DeadLetters.GetAsync(observed.Id);
        stored.Should().NotBeNull();
        stored!.Id.Should().Be(observed.Id);
        stored.Queue.Should().Be(queue);
        stored.Reason.Should().Be(DeadLetterReason.Failed);
        stored.Attempts.Should().Be(1);
        stored.Error!.Type.Should().Be(typeof(InvalidOperationException).FullName);
        stored.Error.Message.Should().Be("order 7 failed");
        stored.Error.StackTrace.Should().NotBeNullOrEmpty();
        stored.Message.Should().Be(new Order(7));
        stored.Envelope.MessageId.Should().Be(observed.Envelope.MessageId);
        stored.Envelope.CorrelationId.Should().Be(correlationId);
        stored.Envelope.Headers["tenant"].Should().Be("acme");
        stored.Envelope.Headers.Keys.Should().NotContain(k => k.StartsWith("bus-", StringComparison.Ordinal) || k.StartsWith("x-", StringComparison.Ordinal));
        stored.LastFailedAt.Should().BeCloseTo(observed.LastFailedAt, TimeSpan.FromMilliseconds(1));
        (await bus.DeadLetters.GetAsync(Guid.NewGuid())).Should().BeNull();

        await using var connection = await vhost.ConnectAsync();
        var raw = (await vhost.PeekAllAsync(connection, $"{queue}.dead-letters")).Should().ContainSingle().Subject.BasicProperties;
        raw.Header("bus-dead-letter-reason").Should().Be("Failed");
        raw.Header("bus-dead-letter-attempts").Should().Be("1");
        raw.Header("bus-dead-letter-error-type").Should().Be(typeof(InvalidOperationException).FullName);
        raw.Header("bus-dead-letter-queue").Should().Be(queue);
        raw.Header("bus-dead-letter-id").Should().Be(observed.Id.ToString());
        raw.Expiration.Should().BeNull("a dead letter must not expire in the store");
    }

    [Fact]
    public async Task A_replayed_dead_letter_is_consumed_and_leaves_the_store()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("replay");
        var (bus, failing) = await StartAsync(queue);
        await using var _ = bus;
        await bus.Bus.SendAsync(queue, new Order(9));
        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        failing.Fixed = true;

        (await bus.Bus.ReplayAsync(deadLetter.Id)).Should().BeTrue();

        var consumed = (await bus.Probe.Consumed.WhenCountAsync(1))[0];
        consumed.Message.Should().Be(new Order(9));
        consumed.Envelope.MessageId.Should().Be(deadLetter.Envelope.MessageId);
        consumed.DeliveryCount.Should().Be(1, "a replay is a first delivery");
        (await bus.DeadLetters.GetAsync(deadLetter.Id)).Should().BeNull();
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(0);
        (await bus.Bus.ReplayAsync(deadLetter.Id)).Should().BeFalse("it is gone");
    }

    [Fact]
    public async Task Replaying_by_query_sends_every_match_back_once()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("replay-query");
        var (bus, failing) = await StartAsync(queue);
        await using var _ = bus;
        await bus.Bus.SendAsync(queue, new Order(1));
        await bus.Probe.DeadLettered.WhenCountAsync(1);
        await bus.Bus.SendAsync(queue, new Order(2));
        await bus.Bus.SendAsync(queue, new Order(101));
        await bus.Probe.DeadLettered.WhenCountAsync(2);
        await bus.Probe.Consumed.WhenCountAsync(1);
        failing.Fixed = true;

        // Only the rejected one matches; the failed one, older, stays.
        var replayed = await bus.Bus.ReplayAsync(new DeadLetterQuery { Queue = queue, Reason = DeadLetterReason.Rejected });

        replayed.Should().Be(1);
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Order { Id: 101 });
        (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Which.Message.Should().Be(new Order(1));
    }

    [Fact]
    public async Task Purging_removes_the_matching_dead_letters_from_the_broker_and_keeps_the_others()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("purge");
        var (bus, _) = await StartAsync(queue);
        await using var _ = bus;
        foreach (var id in new[] { 1, 3, 101, 103, 5 })
        {
            await bus.Bus.SendAsync(queue, new Order(id));
        }

        await bus.Probe.DeadLettered.WhenCountAsync(5);
        (await bus.DeadLetters.QueryAsync()).Should().HaveCount(5);

        var purged = await bus.DeadLetters.PurgeAsync(new DeadLetterQuery { Queue = queue, Reason = DeadLetterReason.Rejected });

        purged.Should().Be(2);
        bus.DeadLetters.Count.Should().Be(3);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(3);
        (await bus.DeadLetters.QueryAsync()).Select(d => ((Order)d.Message).Id).Should().Equal(1, 3, 5);
        (await bus.DeadLetters.PurgeAsync()).Should().Be(3);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters")).Should().Be(0);
        bus.DeadLetters.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_message_the_broker_expires_in_a_queue_with_a_time_to_live_is_in_the_store_as_expired()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("ttl");
        await using var bus = await RabbitBus.StartAsync(vhost, b => b
            .Configure(o => o.AddMessageType<Order>())
            .AddQueue(queue, q => q.TimeToLive = TimeSpan.FromMilliseconds(50)));

        await bus.Bus.SendAsync(queue, new Order(1));

        await Poll.UntilAsync(async () => await vhost.CountReadyViaAmqpAsync($"{queue}.dead-letters") == 1, "the broker expired the message into the dead-letter queue");
        var expired = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        expired.Reason.Should().Be(DeadLetterReason.Expired);
        expired.Message.Should().Be(new Order(1));
        expired.Description.Should().Contain("expired");
    }
}
