using System.Collections.Concurrent;

namespace Bus;

/// <summary>
/// Topic routing: binding keys are dot-separated patterns where <c>*</c> matches exactly one word and <c>#</c> matches
/// zero or more words (RabbitMQ's topic exchange).
/// </summary>
public sealed class TopicRoutingStrategy : IRoutingStrategy, IIndexedRoutingStrategy
{
    private TopicRoutingStrategy()
    {
    }

    /// <summary>Gets the topic strategy.</summary>
    public static TopicRoutingStrategy Instance { get; } = new();

    /// <inheritdoc/>
    public string? Validate(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return TopicPattern.Validate(binding.RoutingKey);
    }

    /// <inheritdoc/>
    public bool IsMatch(Binding binding, in RoutingContext message)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return TopicPattern.IsMatch(binding.RoutingKey, message.RoutingKey);
    }

    RouteTable IIndexedRoutingStrategy.CreateTable(IReadOnlyList<BoundQueue> bindings, int cacheCapacity) =>
        new TopicTable(bindings, cacheCapacity);

    /// <summary>
    /// A trie plus a bounded cache of results per routing key: a key seen before costs one hash lookup. When the cache
    /// is full, further keys are matched through the trie on every publish.
    /// </summary>
    private sealed class TopicTable : RouteTable
    {
        private readonly TopicTrie _trie = new();
        private readonly ConcurrentDictionary<string, BusQueue[]> _cache = new(StringComparer.Ordinal);
        private readonly int _cacheCapacity;
        private int _cached;

        public TopicTable(IReadOnlyList<BoundQueue> bindings, int cacheCapacity)
        {
            _cacheCapacity = cacheCapacity;
            foreach (var bound in bindings)
            {
                _trie.Add(bound.Binding.RoutingKey, bound.Queue);
            }
        }

        public override BusQueue[] Route(in RoutingContext message)
        {
            var key = message.RoutingKey;
            if (_cache.TryGetValue(key, out var queues))
            {
                return queues;
            }

            var matches = new HashSet<BusQueue>();
            _trie.Match(key, matches);
            queues = matches.Count == 0 ? [] : [.. matches];

            // The counter may overshoot by the number of racing publishers; the bound holds within that margin.
            if (Volatile.Read(ref _cached) < _cacheCapacity && _cache.TryAdd(key, queues))
            {
                Interlocked.Increment(ref _cached);
            }

            return queues;
        }
    }
}
