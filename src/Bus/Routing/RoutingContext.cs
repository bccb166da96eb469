namespace Bus;

/// <summary>What a routing strategy sees of a message being published.</summary>
public readonly struct RoutingContext
{
    /// <summary>Creates a routing context.</summary>
    /// <param name="messageType">The message type.</param>
    /// <param name="routingKey">The routing key (empty when none was given).</param>
    /// <param name="headers">The headers (empty when none were given).</param>
    public RoutingContext(Type messageType, string routingKey, IReadOnlyDictionary<string, object?> headers)
    {
        MessageType = messageType;
        RoutingKey = routingKey;
        Headers = headers;
    }

    /// <summary>Gets the message type.</summary>
    public Type MessageType { get; }

    /// <summary>Gets the routing key (empty when none was given).</summary>
    public string RoutingKey { get; }

    /// <summary>Gets the headers (empty when none were given).</summary>
    public IReadOnlyDictionary<string, object?> Headers { get; }
}
