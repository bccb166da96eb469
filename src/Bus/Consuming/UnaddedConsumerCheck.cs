using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// Warns at start about each class that implements <see cref="IConsumer{TMessage}"/> (or <see cref="IBatchConsumer{TMessage}"/>)
/// and is registered in the service collection, but is not added to the bus: registering a consumer in the container
/// alone, as some other libraries expect, leaves it without messages.
/// </summary>
internal static class UnaddedConsumerCheck
{
    public static void Warn(IServiceProvider services, TopologyDefinition topology, ILogger logger)
    {
        if (!logger.IsEnabled(LogLevel.Warning) || services.GetService<ServiceRegistrations>() is not { } registrations)
        {
            return;
        }

        var added = new HashSet<Type>(topology.ReplacedConsumers);
        foreach (var consumer in topology.Consumers)
        {
            added.Add(consumer.ConsumerType);
        }

        var seen = new HashSet<Type>();
        foreach (var descriptor in registrations.Services)
        {
            if (RegisteredClass(descriptor) is { } type && !added.Contains(type) && seen.Add(type) && Contracts(type) is { } contracts)
            {
                Log.ConsumerNotAdded(logger, type, contracts, type.Name);
            }
        }
    }

    /// <summary>The class a registration creates, when it can be known without creating it.</summary>
    private static Type? RegisteredClass(ServiceDescriptor descriptor)
    {
        if (descriptor.IsKeyedService)
        {
            return null;
        }

        var type = descriptor.ImplementationType ?? descriptor.ImplementationInstance?.GetType() ?? descriptor.ServiceType;
        return type is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } ? type : null;
    }

    /// <summary>The consumer interfaces the type implements, named; null when it implements none.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "Only looks for consumers: a class whose consumer interfaces were trimmed away is consumed by nothing, and a warning about it would be wrong anyway.")]
    private static string? Contracts(Type type)
    {
        var messageTypes = ConsumerTypes.GetMessageTypes(type);
        if (messageTypes.Length == 0)
        {
            return null;
        }

        var contract = ConsumerTypes.IsBatchConsumer(type) ? "IBatchConsumer" : "IConsumer";
        return string.Join(", ", Array.ConvertAll(messageTypes, m => $"{contract}<{m.Name}>"));
    }
}
