using System.Text;
using Bus.RabbitMQ.Tests.Support;
using RabbitMQ.Client;

namespace Bus.RabbitMQ.Tests;

/// <summary>The broker restart the fault tests use: it runs alone (see <see cref="BrokerRestartCollection"/>).</summary>
[Collection(BrokerRestartCollection.Name)]
public sealed class BrokerRestartTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_restarted_broker_keeps_durable_messages_and_a_recovering_connection_comes_back()
    {
        await RabbitMqBroker.RequireAsync();
        await using var connection = await vhost.ConnectAsync("restarted");
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true,
            publisherConfirmationTrackingEnabled: true)))
        {
            await channel.QueueDeclareAsync("durable", durable: true, exclusive: false, autoDelete: false);
            await channel.BasicPublishAsync(string.Empty, "durable", mandatory: false, new BasicProperties { Persistent = true }, Encoding.UTF8.GetBytes("kept"));
        }

        var recovered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        connection.RecoverySucceededAsync += (_, _) =>
        {
            recovered.TrySetResult();
            return Task.CompletedTask;
        };

        await vhost.RestartBrokerAppAsync();

        await recovered.Task.WaitAsync(BrokerVhost.Timeout);
        (await vhost.CountReadyViaAmqpAsync("durable")).Should().Be(1);
    }
}
