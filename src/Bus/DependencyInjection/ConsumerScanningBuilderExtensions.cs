using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Bus;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds every consumer an assembly defines, found by reflection while the bus is configured.</summary>
public static class ConsumerScanningBuilderExtensions
{
    private const string TrimmingMessage =
        "AddConsumers finds consumers by reading every type of the assembly, and trimming removes types nothing refers to. "
        + "In a trimmed or native AOT application, add each consumer with AddConsumer<TConsumer>().";

    /// <summary>
    /// Adds, as <see cref="MessageBusBuilderExtensions.AddConsumer{TConsumer}"/> does, every class in
    /// <paramref name="assembly"/> that implements <see cref="IConsumer{TMessage}"/> or <see cref="IBatchConsumer{TMessage}"/>,
    /// public or not, in order of full name. Abstract classes and open generic classes are skipped, and so is a type also
    /// added with <c>AddConsumer</c> (before or after this call, whose options then stand), replaced with
    /// <c>ReplaceConsumer</c>, or found by an earlier scan.
    /// </summary>
    /// <remarks>
    /// The assembly is read here, once; messages never reach reflection. Each consumer is registered in the service
    /// collection with its lifetime unless its type is registered already; a later <c>AddConsumer</c> of the type
    /// replaces that registration with its own.
    /// </remarks>
    /// <param name="builder">The bus builder.</param>
    /// <param name="assembly">The assembly to scan, such as <c>typeof(Program).Assembly</c>.</param>
    /// <param name="configure">Sets each consumer's options (queue, lifetime, retry policy, bindings); called once per consumer type found.</param>
    /// <returns>The builder.</returns>
    [RequiresUnreferencedCode(TrimmingMessage)]
    public static IMessageBusBuilder AddConsumers(this IMessageBusBuilder builder, Assembly assembly, Action<Type, ConsumerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(assembly);
        var found = new List<ConsumerDefinition>();
        foreach (var consumerType in FindConsumerTypes(assembly))
        {
            var options = new ConsumerOptions();
            configure?.Invoke(consumerType, options);
            ScannedConsumers.Register(builder.Services, consumerType, options.Lifetime);
            found.Add(new ConsumerDefinition(consumerType, options, Scanned: true));
        }

        builder.Services.Configure<BusOptions>(options => options.Topology.Consumers.AddRange(found));
        return builder;
    }

    [RequiresUnreferencedCode(TrimmingMessage)]
    private static List<Type> FindConsumerTypes(Assembly assembly)
    {
        Type?[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException exception)
        {
            // The types that did load: one that needs a missing assembly cannot be a consumer anyone calls.
            types = exception.Types;
        }

        var consumers = new List<Type>();
        foreach (var type in types)
        {
            if (type is { IsClass: true, IsAbstract: false, ContainsGenericParameters: false } && ConsumerTypes.GetMessageTypes(type).Length > 0)
            {
                consumers.Add(type);
            }
        }

        consumers.Sort(static (x, y) => string.CompareOrdinal(x.FullName, y.FullName));
        return consumers;
    }
}
