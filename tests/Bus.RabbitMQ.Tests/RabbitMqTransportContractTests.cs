using Bus.RabbitMQ.Tests.Support;
using Bus.TransportContract;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// The transport contract on RabbitMQ: the class's tests share one fresh vhost (each test names its own exchanges and
/// queues), and the broker keeps what a stopping bus did not process for the next bus on the queue.
/// </summary>
public sealed class RabbitMqTransportContractTests(BrokerVhost vhost) : TransportContractTests, IClassFixture<BrokerVhost>
{
    protected override bool KeepsUnprocessedMessages => true;

    protected override Task RequireTransportAsync() => RabbitMqBroker.RequireAsync();

    protected override void UseTransport(IMessageBusBuilder bus) => bus.UseRabbitMQ(o =>
    {
        o.Uri = vhost.Uri;
        o.RecoveryInterval = TimeSpan.FromSeconds(1);
    });
}
