namespace Bus;

/// <summary>
/// Thrown by a mandatory publish (<see cref="PublishOptions.Mandatory"/>) that no queue is bound for, and by a request
/// (<see cref="IPublisher.RequestAsync{TRequest, TResponse}(TRequest, CancellationToken)"/>) that no consumer could answer.
/// </summary>
public sealed class UnroutableMessageException : Exception
{
    /// <summary>Creates the exception.</summary>
    public UnroutableMessageException()
        : this("No queue is bound for the message.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public UnroutableMessageException(string message)
        : base(message)
    {
        Exchange = string.Empty;
        RoutingKey = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public UnroutableMessageException(string message, Exception innerException)
        : base(message, innerException)
    {
        Exchange = string.Empty;
        RoutingKey = string.Empty;
    }

    /// <summary>Creates the exception for a message that could not be routed.</summary>
    /// <param name="messageType">The message type.</param>
    /// <param name="exchange">The exchange it was published to.</param>
    /// <param name="routingKey">Its routing key.</param>
    public UnroutableMessageException(Type messageType, string exchange, string routingKey)
        : base($"No queue is bound for {messageType} on exchange '{exchange}' with routing key '{routingKey}', and the publish was mandatory.")
    {
        MessageType = messageType;
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    private UnroutableMessageException(Type messageType, string exchange, string routingKey, string message)
        : base(message)
    {
        MessageType = messageType;
        Exchange = exchange;
        RoutingKey = routingKey;
    }

    /// <summary>Gets the message type.</summary>
    public Type? MessageType { get; }

    /// <summary>Gets the exchange the message was published to.</summary>
    public string Exchange { get; }

    /// <summary>Gets the routing key.</summary>
    public string RoutingKey { get; }

    /// <summary>A request that reached no queue: no consumer is registered that could respond.</summary>
    internal static UnroutableMessageException NoResponder(Type requestType, string exchange, string routingKey) =>
        new(
            requestType,
            exchange,
            routingKey,
            $"No consumer is registered to respond to {requestType}: no queue is bound for it on exchange '{exchange}' with routing key '{routingKey}', so nobody could answer the request. Add a consumer for it with AddConsumer<TConsumer>() (a class that implements IConsumer<{requestType.Name}> and calls context.RespondAsync).");
}
