using System.Diagnostics;

namespace Bus;

/// <summary>
/// A named exchange: a routing strategy and the bindings it routes over.
/// </summary>
/// <remarks>
/// Bind and unbind take <see cref="_lock"/>, change the binding list and drop the <see cref="RouteTable"/>; the next
/// publish builds a new one under the lock and publishes it with a volatile write. Publishers otherwise only read
/// <see cref="_table"/>, so they see either a complete old or a complete new table, never a mix. A run of binding
/// changes costs one rebuild, O(bindings), at the next publish, instead of one per change: binding ten thousand queues
/// one by one stays linear.
/// </remarks>
[DebuggerDisplay("Exchange {Name,nq} ({KindName,nq}), {BindingCount} bindings")]
internal sealed class Exchange
{
    private readonly Lock _lock = new();
    private readonly List<BoundQueue> _bindings = [];
    private readonly HashSet<Binding> _bound = [];
    private readonly int _cacheCapacity;
    private volatile RouteTable? _table;
    private string? _publishSpanName;

    public Exchange(string name, IRoutingStrategy strategy, ExchangeType? type, int cacheCapacity)
    {
        Name = name;
        Strategy = strategy;
        Type = type;
        _cacheCapacity = cacheCapacity;
    }

    public string Name { get; }

    public IRoutingStrategy Strategy { get; }

    /// <summary>The built-in kind, or null for a user strategy.</summary>
    public ExchangeType? Type { get; }

    public string KindName => Type?.ToString() ?? Strategy.GetType().Name;

    /// <summary>The name of the spans of publishes to this exchange, "publish {exchange}", made once rather than per publish.</summary>
    public string PublishSpanName => _publishSpanName ??= $"publish {Name}";

    public int BindingCount
    {
        get
        {
            lock (_lock)
            {
                return _bindings.Count;
            }
        }
    }

    public BusQueue[] Route(in RoutingContext message) => (_table ?? BuildTable()).Route(message);

    public Binding[] GetBindings()
    {
        lock (_lock)
        {
            return [.. _bindings.Select(b => b.Binding)];
        }
    }

    /// <summary>Adds bindings in one rebuild; bindings already present are skipped. Returns how many were added.</summary>
    public int Bind(IEnumerable<BoundQueue> bindings)
    {
        lock (_lock)
        {
            var added = 0;
            foreach (var bound in bindings)
            {
                if (_bound.Add(bound.Binding))
                {
                    _bindings.Add(bound);
                    added++;
                }
            }

            if (added > 0)
            {
                _table = null;
            }

            return added;
        }
    }

    public bool Unbind(Binding binding)
    {
        lock (_lock)
        {
            var removed = _bound.Remove(binding) && _bindings.RemoveAll(b => b.Binding.Equals(binding)) > 0;
            if (removed)
            {
                _table = null;
            }

            return removed;
        }
    }

    public void UnbindQueue(BusQueue queue)
    {
        lock (_lock)
        {
            // By the queue object, not its name: a queue declared again under the same name keeps its own bindings.
            var removed = false;
            for (var i = _bindings.Count - 1; i >= 0; i--)
            {
                if (_bindings[i].Queue == queue)
                {
                    _bound.Remove(_bindings[i].Binding);
                    _bindings.RemoveAt(i);
                    removed = true;
                }
            }

            if (removed)
            {
                _table = null;
            }
        }
    }

    private RouteTable BuildTable()
    {
        lock (_lock)
        {
            return _table ??= CreateTable();
        }
    }

    private RouteTable CreateTable() => Strategy is IIndexedRoutingStrategy indexed
        ? indexed.CreateTable(_bindings, _cacheCapacity)
        : new ScanRouteTable(Strategy, _bindings);
}
