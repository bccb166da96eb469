using System.Text;
using Bus.RabbitMQ.Tests.Support;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ.Tests;

/// <summary>The test infrastructure itself, against the broker: a vhost per class, the counts, a dropped connection.</summary>
public sealed class BrokerInfrastructureTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    private static readonly CreateChannelOptions s_confirmed = new(
        publisherConfirmationsEnabled: true,
        publisherConfirmationTrackingEnabled: true);

    [Fact]
    public async Task Each_test_class_gets_a_fresh_vhost_it_can_publish_to_and_get_from()
    {
        await RabbitMqBroker.RequireAsync();
        vhost.Name.Should().MatchRegex("^bus-test-brokerinfrastructuretests-[0-9a-f]{8}$");
        vhost.Uri.AbsolutePath.Should().Be("/" + vhost.Name);

        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(s_confirmed);
        await channel.QueueDeclareAsync("usable", durable: true, exclusive: false, autoDelete: false);
        var properties = new BasicProperties { MessageId = "m-1", Persistent = true };
        await channel.BasicPublishAsync(string.Empty, "usable", mandatory: true, properties, Encoding.UTF8.GetBytes("hello"));

        var got = await channel.BasicGetAsync("usable", autoAck: true);

        got.Should().NotBeNull();
        Encoding.UTF8.GetString(got!.Body.Span).Should().Be("hello");
        got.BasicProperties.MessageId.Should().Be("m-1");
        (await vhost.CountMessagesAsync("usable")).Should().BeInRange(0, 1, "the management API's statistics lag");
    }

    [Fact]
    public async Task Counting_over_AMQP_sees_ready_messages_at_once_and_not_unacknowledged_ones()
    {
        await RabbitMqBroker.RequireAsync();
        await using var connection = await vhost.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync(s_confirmed);
        await channel.QueueDeclareAsync("counted", durable: true, exclusive: false, autoDelete: false);
        (await vhost.CountReadyViaAmqpAsync("counted")).Should().Be(0);

        for (var i = 0; i < 3; i++)
        {
            await channel.BasicPublishAsync(string.Empty, "counted", Encoding.UTF8.GetBytes($"message {i}"));
        }

        (await vhost.CountReadyViaAmqpAsync("counted")).Should().Be(3, "each publish returned on its confirm");
        var got = await channel.BasicGetAsync("counted", autoAck: false);
        got.Should().NotBeNull();
        (await vhost.CountReadyViaAmqpAsync("counted")).Should().Be(2, "an unacknowledged message is not ready");
        await channel.BasicNackAsync(got!.DeliveryTag, multiple: false, requeue: true);
        (await vhost.CountReadyViaAmqpAsync("counted")).Should().Be(3);

        var missing = async () => await vhost.CountReadyViaAmqpAsync("no-such-queue");
        (await missing.Should().ThrowAsync<OperationInterruptedException>())
            .Which.ShutdownReason!.ReplyCode.Should().Be(404);
    }

    [Fact]
    public async Task Closing_connections_by_name_drops_only_those_and_a_recovering_connection_comes_back()
    {
        await RabbitMqBroker.RequireAsync();
        await using var dropped = await vhost.ConnectAsync("dropped-publisher");
        await using var kept = await vhost.ConnectAsync("kept-consumer");
        await using (var setup = await dropped.CreateChannelAsync())
        {
            await setup.QueueDeclareAsync("after-recovery", durable: true, exclusive: false, autoDelete: false);
        }

        var shutdown = Signal(out var shutdownSignal);
        dropped.ConnectionShutdownAsync += (_, args) =>
        {
            shutdownSignal.TrySetResult(args.ReplyCode);
            return Task.CompletedTask;
        };
        var recovered = Signal(out var recoveredSignal);
        dropped.RecoverySucceededAsync += (_, _) =>
        {
            recoveredSignal.TrySetResult(0);
            return Task.CompletedTask;
        };
        var keptShutdown = false;
        kept.ConnectionShutdownAsync += (_, _) =>
        {
            keptShutdown = true;
            return Task.CompletedTask;
        };

        (await vhost.CloseConnectionsAsync("dropped-")).Should().Be(1);

        (await shutdown.WaitAsync(BrokerVhost.Timeout)).Should().Be(320, "the broker closed it (CONNECTION_FORCED)");
        await recovered.WaitAsync(BrokerVhost.Timeout);
        dropped.IsOpen.Should().BeTrue();
        await using (var channel = await dropped.CreateChannelAsync(s_confirmed))
        {
            await channel.BasicPublishAsync(string.Empty, "after-recovery", Encoding.UTF8.GetBytes("after"));
        }

        (await vhost.CountReadyViaAmqpAsync("after-recovery")).Should().Be(1);
        kept.IsOpen.Should().BeTrue();
        keptShutdown.Should().BeFalse();
    }

    private static Task<ushort> Signal(out TaskCompletionSource<ushort> signal)
    {
        signal = new TaskCompletionSource<ushort>(TaskCreationOptions.RunContinuationsAsynchronously);
        return signal.Task;
    }
}
