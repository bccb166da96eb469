using Microsoft.Extensions.Hosting;

namespace Bus;

/// <summary>Starts and stops the bus with the generic host.</summary>
internal sealed class BusHostedService(IMessageBus bus) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => bus.StartAsync(cancellationToken);

    // The bus logs what it could not process; the host has no use for the report itself.
    public Task StopAsync(CancellationToken cancellationToken) => bus.StopAsync(cancellationToken);
}
