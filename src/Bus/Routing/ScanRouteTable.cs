namespace Bus;

/// <summary>
/// Routes by asking the strategy about every binding: the table for user strategies and headers exchanges, whose
/// matches depend on more than a key that could index them.
/// </summary>
internal sealed class ScanRouteTable : RouteTable
{
    private readonly IRoutingStrategy _strategy;
    private readonly BoundQueue[] _bindings;

    public ScanRouteTable(IRoutingStrategy strategy, IReadOnlyList<BoundQueue> bindings)
    {
        _strategy = strategy;
        _bindings = [.. bindings];
    }

    public override BusQueue[] Route(in RoutingContext message)
    {
        List<BusQueue>? matches = null;
        foreach (var bound in _bindings)
        {
            if ((matches is null || !matches.Contains(bound.Queue)) && _strategy.IsMatch(bound.Binding, message))
            {
                (matches ??= []).Add(bound.Queue);
            }
        }

        return matches is null ? [] : matches.ToArray();
    }
}
