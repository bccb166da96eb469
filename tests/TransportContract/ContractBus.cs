using Microsoft.Extensions.DependencyInjection;

namespace Bus.TransportContract;

/// <summary>One running bus of a contract test: its container, its probe, its dead-letter store.</summary>
public sealed class ContractBus : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    internal ContractBus(ServiceProvider services)
    {
        _services = services;
        Bus = services.GetRequiredService<IMessageBus>();
        Probe = services.GetRequiredService<ContractProbe>();
    }

    public IMessageBus Bus { get; }

    public IPublisher Publisher => Bus;

    public ContractProbe Probe { get; }

    public IDeadLetterStore DeadLetters => _services.GetRequiredService<IDeadLetterStore>();

    /// <summary>Sends a <see cref="Marker"/> to each queue and waits until every one was consumed (see <see cref="Marker"/>).</summary>
    public async Task SendMarkersAsync(params string[] queues)
    {
        foreach (var queue in queues)
        {
            await Publisher.SendAsync(queue, new Marker(queue));
        }

        foreach (var queue in queues)
        {
            await Probe.WhenMarkerConsumedAsync(queue);
        }
    }

    /// <summary>The routing keys of the <see cref="Work"/> each queue consumed, in order, once the queues' markers arrived.</summary>
    public async Task<Dictionary<string, List<string>>> KeysConsumedAsync(params string[] queues)
    {
        await SendMarkersAsync(queues);
        return queues.ToDictionary(
            queue => queue,
            queue => Probe.ConsumedIn(queue).Where(d => d.Message is Work).Select(d => d.Envelope.RoutingKey).ToList());
    }

    public Task<DrainReport> StopAsync() => Bus.StopAsync().WaitAsync(TransportContractTests.WaitLimit);

    /// <summary>
    /// Opens the gate (a test that failed with a consumer held there must not hold up the stop), stops the bus if the
    /// test did not, and disposes the container.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        Probe.Gate.Open();
        try
        {
            await StopAsync();
        }
        finally
        {
            await _services.DisposeAsync();
        }
    }
}
