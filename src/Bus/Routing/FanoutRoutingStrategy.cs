namespace Bus;

/// <summary>Fanout routing: every bound queue gets every message; routing keys are ignored.</summary>
public sealed class FanoutRoutingStrategy : IRoutingStrategy, IIndexedRoutingStrategy
{
    private FanoutRoutingStrategy()
    {
    }

    /// <summary>Gets the fanout strategy.</summary>
    public static FanoutRoutingStrategy Instance { get; } = new();

    /// <inheritdoc/>
    public string? Validate(Binding binding) => null;

    /// <inheritdoc/>
    public bool IsMatch(Binding binding, in RoutingContext message) => true;

    RouteTable IIndexedRoutingStrategy.CreateTable(IReadOnlyList<BoundQueue> bindings, int cacheCapacity) => new FanoutTable(bindings);

    private sealed class FanoutTable(IReadOnlyList<BoundQueue> bindings) : RouteTable
    {
        private readonly BusQueue[] _queues = DistinctQueues(bindings);

        public override BusQueue[] Route(in RoutingContext message) => _queues;
    }
}
