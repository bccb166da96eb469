using Bus;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers the message bus in a service collection.</summary>
public static class MessageBusServiceCollectionExtensions
{
    /// <summary>
    /// Registers the bus: <see cref="IMessageBus"/>, <see cref="IPublisher"/> and <see cref="IBusMonitor"/> as singletons, the in-memory transport,
    /// <see cref="TimeProvider.System"/>, and a hosted service that starts and stops the bus with the host. Calling it
    /// again adds configuration to the same bus; services registered before it are kept.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>A builder to configure consumers, exchanges, queues and bindings.</returns>
    public static IMessageBusBuilder AddMessageBus(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddOptions<BusOptions>().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<BusOptions>, BusOptionsValidator>());
        services.TryAddSingleton(new ServiceRegistrations(services));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IMessageTransport, InMemoryTransport>();
        services.TryAddSingleton<IDeadLetterStore, InMemoryDeadLetterStore>();
        services.TryAddSingleton<MessageBus>();
        services.TryAddSingleton<IMessageBus>(static provider => provider.GetRequiredService<MessageBus>());
        services.TryAddSingleton<IPublisher>(static provider => provider.GetRequiredService<MessageBus>());
        services.TryAddSingleton<IBusMonitor>(static provider => new BusMonitor(provider.GetRequiredService<MessageBus>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, BusHostedService>());
        return new MessageBusBuilder(services);
    }

    /// <summary>Registers the bus (see <see cref="AddMessageBus(IServiceCollection)"/>) and configures it.</summary>
    /// <param name="services">The service collection.</param>
    /// <param name="configure">Adds consumers, exchanges, queues and bindings.</param>
    /// <returns>The builder, for further configuration.</returns>
    public static IMessageBusBuilder AddMessageBus(this IServiceCollection services, Action<IMessageBusBuilder> configure)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var builder = services.AddMessageBus();
        configure(builder);
        return builder;
    }
}
