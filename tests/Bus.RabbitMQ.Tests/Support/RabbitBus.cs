using Microsoft.Extensions.Logging;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// A bus over the test class's vhost, built from a fresh service collection (a new container is a new "process" as far
/// as the broker can tell): a unique connection name, recovery every second, a <see cref="Probe"/> and a
/// <see cref="LogSink"/>. Disposing it stops the bus (draining, bounded) and disposes the container.
/// </summary>
public sealed class RabbitBus : IAsyncDisposable
{
    private int _disposed;

    private RabbitBus(ServiceProvider services, string connectionName)
    {
        Services = services;
        ConnectionName = connectionName;
        Probe = services.GetRequiredService<Probe>();
        Logs = services.GetRequiredService<LogSink>();
    }

    public ServiceProvider Services { get; }

    /// <summary>The prefix of both of the bus's connections as the broker names them ("{name} (publish)", "{name} (consume)").</summary>
    public string ConnectionName { get; }

    public IMessageBus Bus => Services.GetRequiredService<IMessageBus>();

    public IDeadLetterStore DeadLetters => Services.GetRequiredService<IDeadLetterStore>();

    /// <summary>What happened to messages; kept after the bus is disposed.</summary>
    public Probe Probe { get; }

    public LogSink Logs { get; }

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    /// <summary>Builds the bus without starting it (for tests of the start itself).</summary>
    public static RabbitBus Create(
        BrokerVhost vhost,
        Action<IMessageBusBuilder> configure,
        Action<IServiceCollection>? services = null,
        Action<RabbitMqOptions>? rabbit = null)
    {
        var connectionName = Names.Unique("bus");
        var collection = new ServiceCollection();
        var logs = new LogSink();
        collection.AddSingleton(logs);
        collection.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Information));
        collection.AddSingleton<Probe>();
        collection.AddSingleton<IBusObserver>(provider => provider.GetRequiredService<Probe>());
        services?.Invoke(collection);
        collection.AddMessageBus(bus =>
        {
            bus.UseRabbitMQ(o =>
            {
                o.Uri = vhost.Uri;
                o.ConnectionName = connectionName;
                o.RecoveryInterval = TimeSpan.FromSeconds(1);
                o.PublishTimeout = TimeSpan.FromSeconds(20);
                rabbit?.Invoke(o);
            });
            configure(bus);
        });
        return new RabbitBus(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true }), connectionName);
    }

    public static async Task<RabbitBus> StartAsync(
        BrokerVhost vhost,
        Action<IMessageBusBuilder> configure,
        Action<IServiceCollection>? services = null,
        Action<RabbitMqOptions>? rabbit = null)
    {
        var bus = Create(vhost, configure, services, rabbit);
        try
        {
            await bus.Bus.StartAsync().WaitAsync(BrokerVhost.Timeout);
        }
        catch
        {
            await bus.Services.DisposeAsync();
            throw;
        }

        return bus;
    }

    /// <summary>Stops the bus (draining), bounded by <see cref="BrokerVhost.Timeout"/>.</summary>
    public Task<DrainReport> StopAsync() => Bus.StopAsync().WaitAsync(BrokerVhost.Timeout);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            IMessageBus bus;
            try
            {
                bus = Bus;
            }
            catch (Microsoft.Extensions.Options.OptionsValidationException)
            {
                // The configuration was refused: there is no bus to stop.
                return;
            }

            if (bus.State is BusState.Running or BusState.Stopping)
            {
                await StopAsync();
            }
        }
        finally
        {
            await Services.DisposeAsync().AsTask().WaitAsync(BrokerVhost.Timeout);
        }
    }
}
