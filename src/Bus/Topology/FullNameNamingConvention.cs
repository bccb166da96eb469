namespace Bus;

/// <summary>The default names: a type's full name, as the bus has always named its default exchanges and queues.</summary>
internal sealed class FullNameNamingConvention : BusNamingConvention
{
    public override string GetExchangeName(Type messageType) => NameOf(messageType);

    public override string GetQueueName(Type consumerType) => NameOf(consumerType);

    public override string ToString() => "full type names";

    private static string NameOf(Type type) => type.FullName ?? type.Name;
}
