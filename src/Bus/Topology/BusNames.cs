namespace Bus;

/// <summary>
/// The names the default convention (<see cref="BusNamingConvention.FullName"/>) gives: a message type's exchange, a
/// consumer's own queue. The bus itself asks <see cref="BusOptions.NamingConvention"/>.
/// </summary>
internal static class BusNames
{
    public static string ExchangeFor(Type messageType) => BusNamingConvention.FullName.GetExchangeName(messageType);

    public static string QueueFor(Type consumerType) => BusNamingConvention.FullName.GetQueueName(consumerType);
}
