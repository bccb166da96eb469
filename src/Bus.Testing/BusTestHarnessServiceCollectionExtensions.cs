using Bus;
using Bus.Testing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Turns a service collection with a bus into a test bus.</summary>
public static class BusTestHarnessServiceCollectionExtensions
{
    /// <summary>
    /// Makes the bus a test bus: the in-memory transport (replacing any other, unless <see cref="BusTestHarnessOptions.KeepTransport"/>),
    /// a <see cref="FakeTimeProvider"/> as the bus's <see cref="TimeProvider"/> (with the in-memory transport), and a
    /// <see cref="BusTestHarness"/> that records every message event. Resolve
    /// the harness to start the bus and wait for it. Calling it again only applies <paramref name="configure"/>.
    /// </summary>
    /// <param name="services">The service collection, with <c>AddMessageBus</c> called before or after.</param>
    /// <param name="configure">Sets the harness options.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddMessageBusTestHarness(this IServiceCollection services, Action<BusTestHarnessOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<BusTestHarnessOptions>()
            .Validate(o => o.MaxEvents >= 1, "BusTestHarnessOptions.MaxEvents must be at least 1.")
            .Validate(o => o.Timeout > TimeSpan.Zero, "BusTestHarnessOptions.Timeout must be more than zero.");
        if (configure is not null)
        {
            options.Configure(configure);
        }

        if (services.Any(d => d.ServiceType == typeof(BusTestHarness)))
        {
            return services;
        }

        services.AddMessageBus();
        services.AddSingleton(static provider => new FakeTimeProvider(provider.GetRequiredService<IOptions<BusTestHarnessOptions>>().Value.StartTime));

        // Whether to keep the configured transport decides what is registered, so it is read from the options now.
        var chosen = new BusTestHarnessOptions();
        configure?.Invoke(chosen);
        if (!chosen.KeepTransport)
        {
            services.RemoveAll<TimeProvider>();
            services.AddSingleton<TimeProvider>(static provider => provider.GetRequiredService<FakeTimeProvider>());
            services.RemoveAll<IMessageTransport>();
            services.AddSingleton<IMessageTransport, InMemoryTransport>();
        }

        services.AddSingleton<BusTestHarness>();
        services.AddSingleton<IBusObserver>(static provider => provider.GetRequiredService<BusTestHarness>());
        return services;
    }
}
