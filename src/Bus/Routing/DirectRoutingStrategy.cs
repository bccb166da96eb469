namespace Bus;

/// <summary>Direct routing: a queue gets a message when its binding key equals the routing key exactly.</summary>
public sealed class DirectRoutingStrategy : IRoutingStrategy, IIndexedRoutingStrategy
{
    private DirectRoutingStrategy()
    {
    }

    /// <summary>Gets the direct strategy.</summary>
    public static DirectRoutingStrategy Instance { get; } = new();

    /// <inheritdoc/>
    public string? Validate(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return RoutingKeys.Validate(binding.RoutingKey);
    }

    /// <inheritdoc/>
    public bool IsMatch(Binding binding, in RoutingContext message)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return string.Equals(binding.RoutingKey, message.RoutingKey, StringComparison.Ordinal);
    }

    RouteTable IIndexedRoutingStrategy.CreateTable(IReadOnlyList<BoundQueue> bindings, int cacheCapacity) => new DirectTable(bindings);

    private sealed class DirectTable : RouteTable
    {
        private readonly Dictionary<string, BusQueue[]> _byKey;

        public DirectTable(IReadOnlyList<BoundQueue> bindings)
        {
            _byKey = new Dictionary<string, BusQueue[]>(StringComparer.Ordinal);
            foreach (var group in bindings.GroupBy(b => b.Binding.RoutingKey, StringComparer.Ordinal))
            {
                _byKey[group.Key] = DistinctQueues(group);
            }
        }

        public override BusQueue[] Route(in RoutingContext message) =>
            _byKey.TryGetValue(message.RoutingKey, out var queues) ? queues : [];
    }
}
