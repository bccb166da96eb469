namespace Bus;

/// <summary>The topology as configured through the builder, before it is checked and created at start.</summary>
internal sealed class TopologyDefinition
{
    public List<ExchangeDefinition> Exchanges { get; } = [];

    public List<QueueDefinition> Queues { get; } = [];

    public List<BindingDefinition> Bindings { get; } = [];

    public List<ConsumerDefinition> Consumers { get; } = [];

    public List<MessageExchangeDefinition> MessageExchanges { get; } = [];
}

internal sealed record ExchangeDefinition(string Name, IRoutingStrategy Strategy);

internal sealed record QueueDefinition(string Name, QueueOptions Options);

/// <summary>A binding to a named exchange, or (when <see cref="Exchange"/> is null) to a message type's exchange.</summary>
internal sealed record BindingDefinition(
    string? Exchange,
    Type? MessageType,
    string Queue,
    string RoutingKey,
    IReadOnlyDictionary<string, object?>? Arguments);

internal sealed record ConsumerDefinition(Type ConsumerType, ConsumerOptions Options);

internal sealed record MessageExchangeDefinition(Type MessageType, string Exchange);
