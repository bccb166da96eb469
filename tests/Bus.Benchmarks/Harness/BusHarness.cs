using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>
/// Bus as a user sets it up: <c>AddMessageBus</c>, one consumer of <see cref="OrderPlaced"/> (singleton or scoped), the
/// default queue (capacity 1024, Wait mode), publishing through <see cref="IPublisher"/>. Variants add queues for the
/// fanout and work-queue scenarios.
/// </summary>
public sealed class BusHarness : IThroughputHarness
{
    private readonly Action<IMessageBusBuilder> _configure;
    private readonly int _deliveriesPerMessage;
    private ServiceProvider? _services;
    private IPublisher? _publisher;

    private BusHarness(Action<IMessageBusBuilder> configure, int deliveriesPerMessage)
    {
        _configure = configure;
        _deliveriesPerMessage = deliveriesPerMessage;
    }

    public Countdown Countdown { get; } = new();

    /// <summary>Scenario 1 (and 6): one queue, one consumer.</summary>
    public static BusHarness OneConsumer(ConsumerLifetime lifetime) =>
        new(b => b.AddConsumer<CountingConsumer>(c => c.Lifetime = lifetime), 1);

    /// <summary>
    /// Scenario 1 with one singleton publish filter and one singleton consume filter, each only calling next: what the
    /// filter pipelines cost when they do nothing.
    /// </summary>
    public static BusHarness OneConsumerWithFilters() => new(
        b => b.AddConsumer<CountingConsumer>(c => c.Lifetime = ConsumerLifetime.Singleton)
            .AddPublishFilter<PassThroughPublishFilter>()
            .AddConsumeFilter<PassThroughConsumeFilter>(),
        1);

    /// <summary>Scenario 2: the message type's fanout exchange bound to four queues, one consumer each.</summary>
    public static BusHarness Fanout(int queues) => new(
        b =>
        {
            for (var q = 0; q < queues; q++)
            {
                b.AddQueue($"fanout-{q}").Bind<OrderPlaced>($"fanout-{q}")
                    .AddConsumer<CountingConsumer>(c => { c.Queue = $"fanout-{q}"; c.Lifetime = ConsumerLifetime.Singleton; });
            }
        },
        queues);

    /// <summary>Scenario 3: one queue with competing consumers.</summary>
    public static BusHarness WorkQueue(int consumers) => new(
        b => b.AddQueue("work", q => q.Concurrency = consumers).Bind<OrderPlaced>("work")
            .AddConsumer<CountingConsumer>(c => { c.Queue = "work"; c.Lifetime = ConsumerLifetime.Singleton; }),
        1);

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton(Countdown);
        services.AddMessageBus(_configure);
        _services = services.BuildServiceProvider();
        var bus = _services.GetRequiredService<IMessageBus>();
        await bus.StartAsync();
        _publisher = bus;
    }

    public async Task PublishAndWaitAsync(int count)
    {
        Countdown.Reset(count * _deliveriesPerMessage);
        var publisher = _publisher!;
        for (var i = 0; i < count; i++)
        {
            await publisher.PublishAsync(new OrderPlaced(i, 10m));
        }

        await Countdown.WaitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }
    }

    public sealed class CountingConsumer(Countdown countdown) : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            countdown.Signal();
            return default;
        }
    }
}
