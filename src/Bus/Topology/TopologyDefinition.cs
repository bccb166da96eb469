namespace Bus;

/// <summary>The topology as configured through the builder, before it is checked and created at start.</summary>
internal sealed class TopologyDefinition
{
    public List<ExchangeDefinition> Exchanges { get; } = [];

    public List<QueueDefinition> Queues { get; } = [];

    public List<BindingDefinition> Bindings { get; } = [];

    public List<ConsumerDefinition> Consumers { get; } = [];

    public List<MessageExchangeDefinition> MessageExchanges { get; } = [];

    /// <summary>Consumer types replaced with <c>ReplaceConsumer</c>: a scan does not add them back.</summary>
    public HashSet<Type> ReplacedConsumers { get; } = [];
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

/// <summary>
/// A consumer as added. <see cref="Scanned"/>: found by <c>AddConsumers</c>, and skipped when the type is also added
/// explicitly or was replaced. <see cref="Replaces"/>: the consumer type a replacement stands in for, whose queue name it keeps.
/// </summary>
internal sealed record ConsumerDefinition(Type ConsumerType, ConsumerOptions Options, bool Scanned = false, Type? Replaces = null);

internal sealed record MessageExchangeDefinition(Type MessageType, string Exchange);
