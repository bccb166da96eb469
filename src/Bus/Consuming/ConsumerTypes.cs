using System.Diagnostics.CodeAnalysis;
namespace Bus;

/// <summary>What reflection tells about consumer types; used while configuring, never per message.</summary>
internal static class ConsumerTypes
{
    /// <summary>The message types of every <see cref="IConsumer{TMessage}"/> and <see cref="IBatchConsumer{TMessage}"/> the type implements.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = Trimming.ConsumerTypesAreKept)]
    public static Type[] GetMessageTypes(Type consumerType)
    {
        var messageTypes = new List<Type>();
        foreach (var contract in consumerType.GetInterfaces())
        {
            if (IsConsumerContract(contract, typeof(IConsumer<>)) || IsConsumerContract(contract, typeof(IBatchConsumer<>)))
            {
                messageTypes.Add(contract.GetGenericArguments()[0]);
            }
        }

        return [.. messageTypes];
    }

    /// <summary>Whether the type consumes batches (<see cref="IBatchConsumer{TMessage}"/>).</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = Trimming.ConsumerTypesAreKept)]
    public static bool IsBatchConsumer(Type consumerType) =>
        Array.Exists(consumerType.GetInterfaces(), contract => IsConsumerContract(contract, typeof(IBatchConsumer<>)));

    /// <summary>Why the type cannot be a consumer, or null when it can.</summary>
    public static string? Validate(Type consumerType)
    {
        if (consumerType.IsAbstract || consumerType.IsInterface)
        {
            return $"Consumer type {consumerType} is abstract; register a concrete class.";
        }

        if (consumerType.ContainsGenericParameters)
        {
            return $"Consumer type {consumerType} is an open generic type; register a closed one.";
        }

        var messageTypes = GetMessageTypes(consumerType);
        if (messageTypes.Length == 0)
        {
            return $"Consumer type {consumerType} implements no IConsumer<T>.";
        }

        return IsBatchConsumer(consumerType) && messageTypes.Length > 1
            ? $"Batch consumer type {consumerType} consumes {messageTypes.Length} message types; a batch consumer implements IBatchConsumer<T> for one message type and nothing else."
            : null;
    }

    private static bool IsConsumerContract(Type contract, Type definition) =>
        contract.IsGenericType && contract.GetGenericTypeDefinition() == definition;
}
