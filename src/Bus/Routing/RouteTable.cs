namespace Bus;

/// <summary>
/// An immutable snapshot of an exchange's bindings, shaped for fast routing. Exchanges replace the whole table when
/// bindings change, so publishers route without taking a lock and never see a half-applied change.
/// </summary>
internal abstract class RouteTable
{
    /// <summary>Returns the distinct queues a message goes to. The array is shared: callers must not change it.</summary>
    public abstract BusQueue[] Route(in RoutingContext message);

    /// <summary>The distinct queues of a set of bindings, in binding order.</summary>
    protected static BusQueue[] DistinctQueues(IEnumerable<BoundQueue> bindings)
    {
        var queues = new List<BusQueue>();
        foreach (var bound in bindings)
        {
            if (!queues.Contains(bound.Queue))
            {
                queues.Add(bound.Queue);
            }
        }

        return queues.Count == 0 ? [] : queues.ToArray();
    }
}

/// <summary>A binding together with the queue it resolves to.</summary>
internal readonly record struct BoundQueue(Binding Binding, BusQueue Queue);

/// <summary>Implemented by built-in strategies that index their bindings instead of testing each one per publish.</summary>
internal interface IIndexedRoutingStrategy
{
    RouteTable CreateTable(IReadOnlyList<BoundQueue> bindings, int cacheCapacity);
}
