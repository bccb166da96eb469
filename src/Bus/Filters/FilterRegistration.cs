using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// One filter type added to the bus, a queue or a consumer, with its lifetime: configuration only, shared by every
/// bus built from the same service collection. Instances come from <see cref="FilterInstances"/>, one set per bus.
/// Filters registered in the container come from it; others are built with their dependencies injected, by a factory
/// compiled once.
/// </summary>
internal sealed class FilterRegistration
{
    private readonly ObjectFactory _factory;

    public FilterRegistration([DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type filterType, ServiceLifetime lifetime)
    {
        FilterType = filterType;
        Lifetime = lifetime;
        _factory = ActivatorUtilities.CreateFactory(filterType, []);
    }

    public Type FilterType { get; }

    public ServiceLifetime Lifetime { get; }

    public bool IsSingleton => Lifetime == ServiceLifetime.Singleton;

    /// <summary>Checks a filter type given by a user: a class, implementing at least one of the filter interfaces.</summary>
    public static FilterRegistration Create<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(ServiceLifetime lifetime, string paramName)
        where TFilter : class
    {
        var type = typeof(TFilter);
        if (type.IsAbstract || type.IsInterface)
        {
            throw new ArgumentException($"{type} is not a class that can be created; a filter must be a concrete class.", paramName);
        }

        if (!typeof(IConsumeFilter).IsAssignableFrom(type) && !typeof(IBatchConsumeFilter).IsAssignableFrom(type) && !typeof(IPublishFilter).IsAssignableFrom(type))
        {
            throw new ArgumentException($"{type} implements none of IConsumeFilter, IBatchConsumeFilter and IPublishFilter.", paramName);
        }

        if (!Enum.IsDefined(lifetime))
        {
            throw new ArgumentOutOfRangeException(paramName, lifetime, $"{lifetime} is not a service lifetime.");
        }

        return new FilterRegistration(type, lifetime);
    }

    /// <summary>A filter instance from the given services: the container's, or one built with its dependencies.</summary>
    public object Create(IServiceProvider services) => services.GetService(FilterType) ?? _factory(services, null);
}
