using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>
/// Bus on RabbitMQ as a user sets it up: <c>AddMessageBus(b => b.UseRabbitMQ(...).AddConsumer&lt;T&gt;(...))</c>, the
/// transport's default options (two publishing channels with confirms, classic durable queues, persistent messages,
/// mandatory publishes), one singleton consumer whose own queue has the scenario's prefetch
/// (<see cref="QueueOptions.PrefetchCount"/>, concurrency 1), publishing through <see cref="IPublisher"/>.
/// </summary>
public sealed class BusRabbitMqHarness(Uri uri, int outstanding, int prefetch) : IBrokerThroughputHarness
{
    private readonly Countdown _countdown = new();
    private ServiceProvider? _services;
    private IMessageBus? _bus;
    private Func<int, ValueTask>? _publish;

    public Countdown Countdown => _countdown;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(_countdown);
        services.AddMessageBus(b => b
            .UseRabbitMQ(o =>
            {
                o.Uri = uri;
                o.ConnectionName = "bus";
            })
            .AddConsumer<Consumer>(c =>
            {
                c.Lifetime = ConsumerLifetime.Singleton;
                c.QueueOptions.PrefetchCount = prefetch;
            }));
        _services = services.BuildServiceProvider();
        _bus = _services.GetRequiredService<IMessageBus>();
        await _bus.StartAsync();
        var publisher = (IPublisher)_bus;
        _publish = id => publisher.PublishAsync(OrderSubmitted.Create(id));
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

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    public sealed class Consumer(Countdown countdown) : IConsumer<OrderSubmitted>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderSubmitted> context, CancellationToken cancellationToken)
        {
            if (context.Message.Quantity != 3)
            {
                throw new InvalidOperationException($"Message {context.Message.Id} did not read back.");
            }

            countdown.Signal();
            return default;
        }
    }
}

/// <summary>
/// Bus on RabbitMQ: <c>RequestAsync</c> to a singleton consumer that answers with <c>RespondAsync</c>; the request goes
/// out confirmed with <c>reply_to</c> = direct reply-to, the reply comes back on the requester's channel.
/// </summary>
public sealed class BusRabbitMqRoundTripHarness(Uri uri, int prefetch) : IRoundTripHarness
{
    private ServiceProvider? _services;
    private IMessageBus? _bus;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddMessageBus(b => b
            .UseRabbitMQ(o =>
            {
                o.Uri = uri;
                o.ConnectionName = "bus rr";
            })
            .AddConsumer<Responder>(c =>
            {
                c.Lifetime = ConsumerLifetime.Singleton;
                c.QueueOptions.PrefetchCount = prefetch;
            }));
        _services = services.BuildServiceProvider();
        _bus = _services.GetRequiredService<IMessageBus>();
        await _bus.StartAsync();
    }

    public async Task RoundTripAsync(int id)
    {
        var reply = await _bus!.RequestAsync<OrderSubmitted, OrderAccepted>(OrderSubmitted.Create(id));
        if (reply.Id != id)
        {
            throw new InvalidOperationException($"Request {id} got the reply of {reply.Id}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_bus is not null)
        {
            await _bus.StopAsync();
        }

        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    public sealed class Responder : IConsumer<OrderSubmitted>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderSubmitted> context, CancellationToken cancellationToken) =>
            context.RespondAsync(new OrderAccepted(context.Message.Id), cancellationToken);
    }
}
