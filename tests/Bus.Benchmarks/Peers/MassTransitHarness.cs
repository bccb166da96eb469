using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks.Peers;

/// <summary>
/// MassTransit 8 on its in-memory transport, set up the way its documentation shows: <c>AddMassTransit</c> with one
/// consumer, <c>UsingInMemory</c> and <c>ConfigureEndpoints</c>, so the consumer gets its own receive endpoint with the
/// default concurrency and prefetch. The bus is started directly through <see cref="IBusControl"/> on a plain service
/// provider, which is all the hosted service that <c>AddMassTransit</c> registers would do, so no generic host is needed.
/// Messages go out through <see cref="IPublishEndpoint.Publish{T}(T, CancellationToken)"/>, which delivers to every
/// endpoint bound to the message type, the nearest match to a fanout publish. The in-memory transport behaves like a
/// broker transport: each message is serialized into a JSON envelope (about 900 bytes here) on publish and
/// deserialized on receive, and the consumer is resolved from a new DI scope per message. Both costs are inherent to
/// MassTransit and stay in. No logger factory is registered, so MassTransit does no logging.
/// </summary>
public sealed class MassTransitHarness : IThroughputHarness
{
    private readonly Countdown _countdown = new();
    private ServiceProvider? _provider;
    private IBusControl? _bus;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_countdown);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<OrderPlacedConsumer>();
            x.UsingInMemory((context, cfg) => cfg.ConfigureEndpoints(context));
        });

        _provider = services.BuildServiceProvider();
        _bus = _provider.GetRequiredService<IBusControl>();
        await _bus.StartAsync();
    }

    public async Task PublishAndWaitAsync(int count)
    {
        var bus = _bus ?? throw new InvalidOperationException("StartAsync has not run.");
        _countdown.Reset(count);
        for (var i = 0; i < count; i++)
        {
            await bus.Publish(new OrderPlaced(i, 10m));
        }

        await _countdown.WaitAsync();
    }

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

    public sealed class OrderPlacedConsumer(Countdown countdown) : MassTransit.IConsumer<OrderPlaced>
    {
        public Task Consume(MassTransit.ConsumeContext<OrderPlaced> context)
        {
            countdown.Signal();
            return Task.CompletedTask;
        }
    }
}
