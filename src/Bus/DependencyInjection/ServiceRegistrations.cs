using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// The service collection the bus was registered in, kept so that the start can see how each service is registered
/// (which the built provider does not tell): whether the container builds a consumer from its constructor, and which
/// consumer classes are registered but not added to the bus. Read at start only, once the provider is built.
/// </summary>
internal sealed class ServiceRegistrations(IServiceCollection services)
{
    public IServiceCollection Services { get; } = services;

    /// <summary>The registration the container resolves a service type by: the last one that is not keyed.</summary>
    public ServiceDescriptor? Find(Type serviceType) => Find(Services, serviceType);

    /// <inheritdoc cref="Find(Type)"/>
    public static ServiceDescriptor? Find(IServiceCollection services, Type serviceType)
    {
        for (var i = services.Count - 1; i >= 0; i--)
        {
            var descriptor = services[i];
            if (!descriptor.IsKeyedService && descriptor.ServiceType == serviceType)
            {
                return descriptor;
            }
        }

        return null;
    }
}
