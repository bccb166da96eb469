using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks.Peers;

/// <summary>
/// MassTransit 8 request/reply on its in-memory transport, as its documentation shows: a consumer that calls
/// <c>RespondAsync</c>, and <see cref="IRequestClient{T}"/> (registered by <c>AddRequestClient</c>) calling
/// <c>GetResponse</c>. The client is resolved once, outside the measured loop.
/// </summary>
public sealed class MassTransitRoundTripHarness : IRoundTripHarness
{
    private ServiceProvider? _provider;
    private IBusControl? _bus;
    private IRequestClient<OrderPlaced>? _client;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.AddConsumer<Responder>();
            x.AddRequestClient<OrderPlaced>();
            x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        });

        _provider = services.BuildServiceProvider();
        _bus = _provider.GetRequiredService<IBusControl>();
        await _bus.StartAsync();
        _client = _provider.GetRequiredService<IRequestClient<OrderPlaced>>();
    }

    public Task RoundTripAsync(int id) => _client!.GetResponse<OrderAccepted>(new OrderPlaced(id, 10m));

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        if (_provider is not null)
        {
            await _provider.DisposeAsync();
        }
    }

    public sealed class Responder : MassTransit.IConsumer<OrderPlaced>
    {
        public Task Consume(MassTransit.ConsumeContext<OrderPlaced> context) => context.RespondAsync(new OrderAccepted(context.Message.Id));
    }
}
