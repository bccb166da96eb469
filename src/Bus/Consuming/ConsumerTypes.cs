namespace Bus;

/// <summary>What reflection tells about consumer types; used while configuring, never per message.</summary>
internal static class ConsumerTypes
{
    /// <summary>The message types of every <see cref="IConsumer{TMessage}"/> the type implements.</summary>
    public static Type[] GetMessageTypes(Type consumerType)
    {
        var messageTypes = new List<Type>();
        foreach (var contract in consumerType.GetInterfaces())
        {
            if (contract.IsGenericType && contract.GetGenericTypeDefinition() == typeof(IConsumer<>))
            {
                messageTypes.Add(contract.GetGenericArguments()[0]);
            }
        }

        return [.. messageTypes];
    }

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

        return GetMessageTypes(consumerType).Length == 0
            ? $"Consumer type {consumerType} implements no IConsumer<T>."
            : null;
    }
}
