using Bus.TransportContract;

namespace Bus.Tests.Transport;

/// <summary>The transport contract on the default, in-memory transport: nothing to configure.</summary>
public sealed class InMemoryTransportContractTests : TransportContractTests
{
    protected override void UseTransport(IMessageBusBuilder bus)
    {
    }
}
