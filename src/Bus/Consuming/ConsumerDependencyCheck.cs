using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// Checks at start that every consumer can be created: each parameter of the constructor that will build it is a
/// registered service or has a default value. A consumer the container builds from its type is checked against the
/// constructor the container picks; one that is not registered, against the constructor <see cref="ActivatorUtilities"/>
/// picks; one registered as an instance or a factory is the application's to build. Only direct dependencies are
/// checked: the container's <c>ValidateOnBuild</c> checks the whole graph.
/// </summary>
internal static class ConsumerDependencyCheck
{
    public static void Check(IEnumerable<PlannedConsumer> consumers, IServiceProvider services, List<string> errors)
    {
        // A container that cannot say what it holds cannot be checked; its own errors come with the first message.
        if (services.GetService<IServiceProviderIsService>() is not { } isService)
        {
            return;
        }

        var registrations = services.GetService<ServiceRegistrations>();
        var seen = new HashSet<Type>();
        foreach (var consumer in consumers)
        {
            if (seen.Add(consumer.ConsumerType))
            {
                Check(consumer.ConsumerType, isService, registrations, errors);
            }
        }
    }

    private static void Check(Type consumerType, IServiceProviderIsService isService, ServiceRegistrations? registrations, List<string> errors)
    {
        if (!isService.IsService(consumerType))
        {
            CheckActivatorConstructor(consumerType, isService, errors);
        }
        else if (registrations?.Find(consumerType) is { ImplementationType: { } implementation })
        {
            CheckContainerConstructors(consumerType, implementation, isService, errors);
        }
    }

    /// <summary>As the container does: the longest public constructor whose every parameter it can satisfy.</summary>
    private static void CheckContainerConstructors(
        Type consumerType,
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] Type implementation,
        IServiceProviderIsService isService,
        List<string> errors)
    {
        var constructors = implementation.GetConstructors();
        if (constructors.Length == 0)
        {
            errors.Add($"Consumer {consumerType} cannot be created: {implementation}, which the service collection creates it as, has no public constructor.");
            return;
        }

        ConstructorInfo? longest = null;
        foreach (var constructor in constructors)
        {
            if (Array.TrueForAll(constructor.GetParameters(), p => IsSatisfied(p, isService)))
            {
                return;
            }

            if (longest is null || constructor.GetParameters().Length > longest.GetParameters().Length)
            {
                longest = constructor;
            }
        }

        var note = constructors.Length == 1
            ? string.Empty
            : $" (none of its {constructors.Length} public constructors can be satisfied; this is the longest)";
        AddMissing(consumerType, longest!, isService, note, errors);
    }

    /// <summary>As <see cref="ActivatorUtilities.CreateFactory(Type, Type[])"/> does: the one marked, else the only public constructor.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = "A consumer's public constructors are kept: ActivatorUtilities needs them to create it, as the bus does.")]
    private static void CheckActivatorConstructor(Type consumerType, IServiceProviderIsService isService, List<string> errors)
    {
        var constructors = consumerType.GetConstructors();
        var marked = Array.FindAll(constructors, c => c.IsDefined(typeof(ActivatorUtilitiesConstructorAttribute), inherit: false));
        if (marked.Length > 1)
        {
            errors.Add($"Consumer {consumerType} cannot be created: {marked.Length} of its constructors are marked [ActivatorUtilitiesConstructor]; mark one.");
        }
        else if (marked.Length == 1)
        {
            AddMissing(consumerType, marked[0], isService, string.Empty, errors);
        }
        else if (constructors.Length == 0)
        {
            errors.Add($"Consumer {consumerType} cannot be created: it has no public constructor.");
        }
        else if (constructors.Length > 1)
        {
            errors.Add($"Consumer {consumerType} cannot be created: it is not registered in the service collection, and of its {constructors.Length} public constructors none is marked [ActivatorUtilitiesConstructor] to say which to use. Mark one, or register the consumer.");
        }
        else
        {
            AddMissing(consumerType, constructors[0], isService, string.Empty, errors);
        }
    }

    private static void AddMissing(Type consumerType, ConstructorInfo constructor, IServiceProviderIsService isService, string note, List<string> errors)
    {
        foreach (var parameter in constructor.GetParameters())
        {
            if (!IsSatisfied(parameter, isService))
            {
                var key = parameter.GetCustomAttribute<FromKeyedServicesAttribute>() is { } keyed ? $" with key '{keyed.Key}'" : string.Empty;
                errors.Add($"Consumer {consumerType} cannot be created: its constructor parameter '{parameter.Name}' needs {parameter.ParameterType}{key}, which is not registered in the service collection{note}.");
            }
        }
    }

    private static bool IsSatisfied(ParameterInfo parameter, IServiceProviderIsService isService)
    {
        if (parameter.HasDefaultValue)
        {
            return true;
        }

        if (parameter.GetCustomAttribute<FromKeyedServicesAttribute>() is { } keyed)
        {
            // A container without keyed services cannot satisfy it; it says so when the consumer is created.
            return isService is IServiceProviderIsKeyedService keyedServices && keyedServices.IsKeyedService(parameter.ParameterType, keyed.Key);
        }

        return isService.IsService(parameter.ParameterType);
    }
}
