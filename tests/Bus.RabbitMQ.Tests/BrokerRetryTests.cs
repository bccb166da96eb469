using System.Diagnostics;
using Bus.RabbitMQ.Tests.Support;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// Delayed retries wait in the broker: a wait queue per queue and rung of the delay ladder, whose messages expire back
/// into their queue; so a retry outlives the process that scheduled it.
/// </summary>
public sealed class BrokerRetryTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_delayed_retry_waits_in_a_wait_queue_on_the_next_rung_and_comes_back_with_its_delivery_count_raised()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("retried");
        var behaviour = new Behaviour<Order>((context, _) =>
            context.DeliveryCount == 1 ? throw new TimeoutException("the first attempt times out") : ValueTask.CompletedTask);
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(2, TimeSpan.FromMilliseconds(200)))),
            s => s.AddSingleton(behaviour));

        await bus.Bus.SendAsync(queue, new Order(1));

        var consumed = (await bus.Probe.Consumed.WhenCountAsync(1))[0];
        var calls = behaviour.Calls.All;
        calls.Select(c => c.DeliveryCount).Should().Equal(1, 2);
        consumed.DeliveryCount.Should().Be(2);
        consumed.Envelope.MessageId.Should().Be(calls[0].Envelope.MessageId);
        consumed.Envelope.Headers.Should().ContainKey(RetryHeaders.FirstFailedAt);
        Stopwatch.GetElapsedTime(calls[0].Timestamp, calls[1].Timestamp).Should().BeGreaterThanOrEqualTo(
            TimeSpan.FromMilliseconds(240), "the 200 ms delay waits on the 250 ms rung (the broker expires a message no earlier than its TTL)");
        bus.Probe.Retrying.All.Should().ContainSingle().Which.Delay.Should().Be(TimeSpan.FromMilliseconds(200));
        var wait = await vhost.QueueArgumentsAsync($"{queue}.retry.250ms");
        wait["x-message-ttl"].GetInt64().Should().Be(250);
        wait["x-dead-letter-exchange"].GetString().Should().BeEmpty();
        wait["x-dead-letter-routing-key"].GetString().Should().Be(queue);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.retry.250ms")).Should().Be(0);
        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
        bus.Bus.GetStatistics().Queues.Single(q => q.Name == queue).Consumed.Should().Be(1);
    }

    [Fact]
    public async Task A_retry_that_keeps_failing_is_dead_lettered_once_the_retries_run_out()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("exhausted");
        var behaviour = new Behaviour<Order>((context, _) => throw new InvalidOperationException($"attempt {context.DeliveryCount}"));
        await using var bus = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(2, TimeSpan.FromMilliseconds(50)))),
            s => s.AddSingleton(behaviour));

        await bus.Bus.SendAsync(queue, new Order(1));

        var deadLetter = (await bus.Probe.DeadLettered.WhenCountAsync(1))[0];
        behaviour.Calls.All.Select(c => c.DeliveryCount).Should().Equal(1, 2, 3);
        deadLetter.Reason.Should().Be(DeadLetterReason.MaxRetriesExceeded);
        deadLetter.Attempts.Should().Be(3);
        deadLetter.Error!.Message.Should().Be("attempt 3");
        (await vhost.QueueExistsAsync($"{queue}.retry.100ms")).Should().BeTrue("50 ms rounds up to the first rung");
        var stored = (await bus.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Subject;
        (stored.Attempts, stored.Reason).Should().Be((3, DeadLetterReason.MaxRetriesExceeded));
        stored.FirstFailedAt.Should().BeBefore(stored.LastFailedAt);
    }

    [Fact]
    public async Task A_retry_waiting_in_the_broker_survives_a_restart_of_the_service_and_reaches_the_next_instance()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = Names.Unique("survivor");
        var failing = new Behaviour<Order>((_, _) => throw new InvalidOperationException("the first instance fails it"));
        var first = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(2, TimeSpan.FromSeconds(1)))),
            s => s.AddSingleton(failing));
        await first.Bus.SendAsync(queue, new Order(1));
        var retry = (await first.Probe.Retrying.WhenCountAsync(1))[0];

        var report = await first.StopAsync();
        var firstStatistics = first.Bus.GetStatistics();
        await first.DisposeAsync();

        report.Unprocessed.Should().BeEmpty("the retry is the broker's, not the stopped bus's");
        firstStatistics.Queues.Single(q => q.Name == queue).DeadLettered.Should().Be(0);
        failing.Calls.All.Should().ContainSingle();
        var succeeding = new Behaviour<Order>((_, _) => ValueTask.CompletedTask);
        await using var second = await RabbitBus.StartAsync(
            vhost,
            b => b.AddQueue(queue).AddConsumer<TestConsumer<Order>>(c => (c.Queue, c.RetryPolicy) = (queue, RetryPolicy.Interval(2, TimeSpan.FromSeconds(1)))),
            s => s.AddSingleton(succeeding));

        var consumed = (await second.Probe.Consumed.WhenCountAsync(1))[0];
        consumed.Message.Should().Be(new Order(1));
        consumed.DeliveryCount.Should().Be(2);
        consumed.Envelope.MessageId.Should().Be(retry.Envelope.MessageId);
        succeeding.Calls.All.Should().ContainSingle();
        second.DeadLetters.Count.Should().Be(0);
        (await vhost.CountReadyViaAmqpAsync($"{queue}.retry.1000ms")).Should().Be(0);
    }
}
