using Microsoft.Extensions.Hosting;

namespace Bus;

/// <summary>
/// Starts the bus before any hosted service starts, and stops it after every hosted service has stopped, so
/// background services can publish from their first line to their last, whatever their registration order.
/// </summary>
internal sealed class BusHostedService(IMessageBus bus) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => bus.StartAsync(cancellationToken);

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    // The bus logs what it could not process; the host has no use for the report itself.
    public Task StoppedAsync(CancellationToken cancellationToken) => bus.StopAsync(cancellationToken);
}
