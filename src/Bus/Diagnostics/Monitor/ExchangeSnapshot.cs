namespace Bus;

/// <summary>One exchange as <see cref="IBusMonitor"/> read it.</summary>
public sealed class ExchangeSnapshot
{
    internal ExchangeSnapshot(string name, ExchangeType? type, string kind, IReadOnlyList<Binding> bindings)
    {
        Name = name;
        Type = type;
        Kind = kind;
        Bindings = bindings;
    }

    /// <summary>Gets the exchange name.</summary>
    public string Name { get; }

    /// <summary>Gets the built-in exchange type, or null when the exchange routes with a user's <see cref="IRoutingStrategy"/>.</summary>
    public ExchangeType? Type { get; }

    /// <summary>Gets the type's name, or the routing strategy's class name for a user's strategy.</summary>
    public string Kind { get; }

    /// <summary>Gets the bindings.</summary>
    public IReadOnlyList<Binding> Bindings { get; }
}
