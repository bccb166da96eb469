namespace Bus;

/// <summary>What the publish path needs to know about a message's static type, worked out once per type.</summary>
/// <typeparam name="TMessage">The static type a message is published as.</typeparam>
internal static class MessageTypeInfo<TMessage>
{
    /// <summary>
    /// Whether a message published as this type is routed by its runtime type instead: <see cref="object"/> and
    /// interfaces say nothing about which consumers want the message (MassTransit's <c>Publish(object)</c>).
    /// </summary>
    public static readonly bool RoutesByRuntimeType = typeof(TMessage) == typeof(object) || typeof(TMessage).IsInterface;

    /// <summary>A small dense number for the type, so the bus finds its exchange by array index instead of a dictionary lookup.</summary>
    public static readonly int Id = MessageTypeId.Next();
}
