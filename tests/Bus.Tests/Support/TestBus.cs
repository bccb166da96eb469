using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Tests.Support;

/// <summary>A bus built from a fresh service collection, with a fake clock, captured logs and a recorder.</summary>
internal sealed class TestBus : IAsyncDisposable
{
    /// <summary>Every wait in the tests is bounded by this; it is a safety net, never a way to let work finish.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private TestBus(ServiceProvider services)
    {
        Services = services;
        Bus = services.GetRequiredService<IMessageBus>();
    }

    public ServiceProvider Services { get; }

    public IMessageBus Bus { get; }

    public IPublisher Publisher => Bus;

    public FakeTimeProvider Time => Services.GetRequiredService<FakeTimeProvider>();

    public Recorder Recorder => Services.GetRequiredService<Recorder>();

    public LogCollector Logs => Services.GetRequiredService<LogCollector>();

    public static TestBus Create(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 0, 0, TimeSpan.Zero));
        var logs = new LogCollector();
        collection.AddSingleton(time);
        collection.AddSingleton<TimeProvider>(time);
        collection.AddSingleton(logs);
        collection.AddSingleton<Recorder>();
        collection.AddLogging(logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        services?.Invoke(collection);
        collection.AddMessageBus(configure);
        return new TestBus(collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true }));
    }

    public static async Task<TestBus> StartAsync(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var bus = Create(configure, services);
        await bus.Bus.StartAsync();
        return bus;
    }

    public T Get<T>()
        where T : notnull => Services.GetRequiredService<T>();

    public Task IdleAsync() => Bus.WaitForIdleAsync().WaitAsync(Timeout);

    /// <summary>
    /// Stops the bus, moving the fake clock past the stop timeout so that a test which leaves messages unconsumed
    /// ends at once instead of draining forever.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var stopping = Bus.StopAsync();
        if (!stopping.IsCompleted)
        {
            Time.Advance(Get<Microsoft.Extensions.Options.IOptions<BusOptions>>().Value.StopTimeout);
        }

        await stopping.WaitAsync(Timeout);
        await Services.DisposeAsync();
    }
}
