using Bus.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bus.HealthChecks.Tests.Support;

/// <summary>
/// A bus and its health checks built from a fresh service collection, with a fake clock. Checks run through the real
/// <see cref="HealthCheckService"/>.
/// </summary>
internal sealed class HealthBus : IAsyncDisposable
{
    /// <summary>Every wait in the tests is bounded by this; it is a safety net, never a way to let work finish.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>The queue of <see cref="StartGatedAsync"/>'s consumer.</summary>
    public const string Jobs = "jobs";

    private HealthBus(ServiceProvider services) => Services = services;

    public ServiceProvider Services { get; }

    public IMessageBus Bus => Services.GetRequiredService<IMessageBus>();

    public FakeTimeProvider Time => Services.GetRequiredService<FakeTimeProvider>();

    public Gate Gate => Services.GetRequiredService<Gate>();

    /// <summary>Registers the bus, then the health checks (by default one message bus check with default options).</summary>
    public static HealthBus Create(
        Action<IMessageBusBuilder> bus,
        Action<IHealthChecksBuilder>? checks = null,
        Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        collection.AddSingleton(time);
        collection.AddSingleton<TimeProvider>(time);
        collection.AddSingleton<Gate>();
        collection.AddLogging();
        collection.AddMessageBus(bus);
        services?.Invoke(collection);
        var health = collection.AddHealthChecks();
        (checks ?? (static h => h.AddMessageBus())).Invoke(health);
        return new HealthBus(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }));
    }

    /// <summary>
    /// Starts a bus whose queue <see cref="Jobs"/> (of the given capacity) has one consumer, held at the gate with the
    /// first message already taken: every message published next stays in the queue until the gate opens.
    /// </summary>
    public static async Task<HealthBus> StartGatedAsync(int capacity, Action<MessageBusHealthCheckOptions>? options = null)
    {
        var bus = Create(
            b => b.AddConsumer<GatedConsumer>(c =>
            {
                c.Queue = Jobs;
                c.QueueOptions.Capacity = capacity;
            }),
            h => h.AddMessageBus(options));
        await bus.Bus.StartAsync();
        await bus.Bus.PublishAsync(new Job(0));
        await bus.Gate.WhenArrivedAsync(1);
        return bus;
    }

    /// <summary>Publishes <paramref name="count"/> jobs; with the consumer held, they wait in the queue.</summary>
    public async Task PublishAsync(int count)
    {
        for (var i = 1; i <= count; i++)
        {
            await Bus.PublishAsync(new Job(i));
        }
    }

    /// <summary>Runs one check through <see cref="HealthCheckService"/> and returns its entry.</summary>
    public async Task<HealthReportEntry> CheckAsync(string name = MessageBusHealthChecksBuilderExtensions.DefaultName)
    {
        var report = await Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Name == name);
        return report.Entries[name];
    }

    /// <summary>Opens the gate and stops the bus, moving the clock past the stop timeout if a drain is still running.</summary>
    public async ValueTask DisposeAsync()
    {
        Gate.Open();
        var stopping = Bus.StopAsync();
        if (!stopping.IsCompleted)
        {
            Time.Advance(Services.GetRequiredService<IOptions<BusOptions>>().Value.StopTimeout);
        }

        await stopping.WaitAsync(Timeout);
        await Services.DisposeAsync();
    }
}
