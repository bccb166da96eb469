using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// The container registrations <c>AddConsumers</c> made, known by identity, so that an explicit <c>AddConsumer</c> of
/// the same type (which chooses its lifetime) replaces them, while a registration the application made stays.
/// </summary>
internal static class ScannedConsumers
{
    // Weak: a registration lives as long as its service collection, and no longer here.
    private static readonly ConditionalWeakTable<ServiceDescriptor, object> s_registrations = [];

    /// <summary>Registers a consumer found by a scan, unless the type is registered already.</summary>
    public static void Register(
        IServiceCollection services,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type consumerType,
        ConsumerLifetime lifetime)
    {
        if (ServiceRegistrations.Find(services, consumerType) is not null)
        {
            return;
        }

        var descriptor = new ServiceDescriptor(consumerType, consumerType, lifetime == ConsumerLifetime.Singleton ? ServiceLifetime.Singleton : ServiceLifetime.Scoped);
        s_registrations.AddOrUpdate(descriptor, s_registrations);
        services.Add(descriptor);
    }

    /// <summary>Removes the registration a scan made for the type, if it made one.</summary>
    public static void Release(IServiceCollection services, Type consumerType)
    {
        if (ServiceRegistrations.Find(services, consumerType) is { } descriptor && s_registrations.TryGetValue(descriptor, out _))
        {
            services.Remove(descriptor);
        }
    }
}
