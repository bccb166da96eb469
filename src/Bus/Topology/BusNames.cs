namespace Bus;

/// <summary>The names the default topology gives: a message type's exchange, a consumer's own queue.</summary>
internal static class BusNames
{
    public static string ExchangeFor(Type messageType) => messageType.FullName ?? messageType.Name;

    public static string QueueFor(Type consumerType) => consumerType.FullName ?? consumerType.Name;
}
