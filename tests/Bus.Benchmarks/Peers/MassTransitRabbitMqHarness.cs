using MassTransit;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks.Peers;

/// <summary>
/// MassTransit 8 on RabbitMQ (MassTransit.RabbitMQ 8.5.12, over the same RabbitMQ.Client 7.2.2), set up as its
/// documentation shows: <c>AddMassTransit</c> with one consumer, <c>UsingRabbitMq</c> with the host and the scenario's
/// <c>PrefetchCount</c>, <c>ConfigureEndpoints</c>. Its defaults are what the other contenders are set to: durable
/// queues and exchanges, persistent messages, publisher confirms awaited by each publish. Messages go out through
/// <see cref="IPublishEndpoint.Publish{T}(T, CancellationToken)"/> (the message type's exchange, bound to the
/// consumer's queue), in MassTransit's JSON envelope. The bus is started directly through <see cref="IBusControl"/>,
/// with no logger factory, as in <see cref="MassTransitHarness"/>.
/// </summary>
public sealed class MassTransitRabbitMqHarness(Uri uri, int outstanding, ushort prefetch) : IBrokerThroughputHarness
{
    private readonly Countdown _countdown = new();
    private ServiceProvider? _provider;
    private IBusControl? _bus;
    private Func<int, ValueTask>? _publish;

    public Countdown Countdown => _countdown;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_countdown);
        services.AddMassTransit(x =>
        {
            x.AddConsumer<OrderSubmittedConsumer>();
            x.UsingRabbitMq((context, cfg) =>
            {
                ConfigureHost(cfg, uri);
                cfg.PrefetchCount = prefetch;
                cfg.ConfigureEndpoints(context);
            });
        });
        _provider = services.BuildServiceProvider();
        _bus = _provider.GetRequiredService<IBusControl>();
        await _bus.StartAsync();
        var bus = _bus;
        _publish = id => new ValueTask(bus.Publish(OrderSubmitted.Create(id)));
    }

    public async Task PublishAndWaitAsync(int count)
    {
        _countdown.Reset(count);
        await BrokerLoad.PublishAsync(count, outstanding, _publish!);
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

    /// <summary>The broker's host, port, vhost and credentials, from the AMQP URI the run made for this contender.</summary>
    internal static void ConfigureHost(IRabbitMqBusFactoryConfigurator cfg, Uri uri) =>
        cfg.Host(uri.Host, (ushort)(uri.IsDefaultPort || uri.Port <= 0 ? 5672 : uri.Port), BenchBroker.VhostOf(uri), h =>
        {
            h.Username(BenchBroker.User(uri));
            h.Password(BenchBroker.Password(uri));
        });

    public sealed class OrderSubmittedConsumer(Countdown countdown) : MassTransit.IConsumer<OrderSubmitted>
    {
        public Task Consume(MassTransit.ConsumeContext<OrderSubmitted> context)
        {
            if (context.Message.Quantity != 3)
            {
                throw new InvalidOperationException($"Message {context.Message.Id} did not read back.");
            }

            countdown.Signal();
            return Task.CompletedTask;
        }
    }
}

/// <summary>
/// MassTransit 8 request/reply on RabbitMQ, as its documentation shows: a consumer that calls <c>RespondAsync</c>, and
/// <see cref="IRequestClient{T}"/> (<c>AddRequestClient</c>) calling <c>GetResponse</c>; responses come back to the
/// bus's own temporary queue (MassTransit does not use direct reply-to). The client is resolved once.
/// </summary>
public sealed class MassTransitRabbitMqRoundTripHarness(Uri uri, ushort prefetch) : IRoundTripHarness
{
    private ServiceProvider? _provider;
    private IBusControl? _bus;
    private IRequestClient<OrderSubmitted>? _client;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddMassTransit(x =>
        {
            x.AddConsumer<Responder>();
            x.AddRequestClient<OrderSubmitted>();
            x.UsingRabbitMq((context, cfg) =>
            {
                MassTransitRabbitMqHarness.ConfigureHost(cfg, uri);
                cfg.PrefetchCount = prefetch;
                cfg.ConfigureEndpoints(context);
            });
        });
        _provider = services.BuildServiceProvider();
        _bus = _provider.GetRequiredService<IBusControl>();
        await _bus.StartAsync();
        _client = _provider.GetRequiredService<IRequestClient<OrderSubmitted>>();
    }

    public async Task RoundTripAsync(int id)
    {
        var reply = await _client!.GetResponse<OrderAccepted>(OrderSubmitted.Create(id));
        if (reply.Message.Id != id)
        {
            throw new InvalidOperationException($"Request {id} got the reply of {reply.Message.Id}.");
        }
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

    public sealed class Responder : MassTransit.IConsumer<OrderSubmitted>
    {
        public Task Consume(MassTransit.ConsumeContext<OrderSubmitted> context) => context.RespondAsync(new OrderAccepted(context.Message.Id));
    }
}
