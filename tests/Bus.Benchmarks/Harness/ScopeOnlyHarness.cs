using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>No bus at all: per "message", create an async DI scope and resolve the consumer from it, then dispose it.</summary>
public sealed class ScopeOnlyHarness : IThroughputHarness
{
    private ServiceProvider _services = null!;

    public Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddSingleton<Countdown>();
        services.AddScoped<BusHarness.CountingConsumer>();
        _services = services.BuildServiceProvider();
        return Task.CompletedTask;
    }

    public async Task PublishAndWaitAsync(int count)
    {
        var scopes = _services.GetRequiredService<IServiceScopeFactory>();
        for (var i = 0; i < count; i++)
        {
            await using var scope = scopes.CreateAsyncScope();
            scope.ServiceProvider.GetRequiredService<BusHarness.CountingConsumer>();
        }
    }

    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
