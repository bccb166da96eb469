using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>
/// The default dead-letter store: in memory, oldest first, bounded by <see cref="BusOptions.DeadLetterCapacity"/>.
/// At the limit the oldest dead letter is evicted to make room, counted in <see cref="Evicted"/> and logged as a
/// warning: a recent failure is worth more than an old one, and refusing would leave the failed message nowhere.
/// </summary>
/// <remarks>One lock guards the list and the index; no user code runs under it.</remarks>
internal sealed class InMemoryDeadLetterStore : IDeadLetterStore
{
    private readonly Lock _lock = new();
    private readonly LinkedList<DeadLetter> _entries = new();
    private readonly Dictionary<Guid, LinkedListNode<DeadLetter>> _byId = [];
    private readonly int _capacity;
    private readonly ILogger _logger;
    private long _evicted;

    public InMemoryDeadLetterStore(IOptions<BusOptions> options, ILoggerFactory? loggerFactory = null)
    {
        _capacity = options.Value.DeadLetterCapacity;
        _logger = (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Bus");
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _entries.Count;
            }
        }
    }

    public long Evicted => Volatile.Read(ref _evicted);

    public ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        DeadLetter? evicted = null;
        lock (_lock)
        {
            if (_entries.Count >= _capacity && _entries.First is { } oldest)
            {
                evicted = oldest.Value;
                _byId.Remove(evicted.Id);
                _entries.RemoveFirst();
                _evicted++;
            }

            _byId[deadLetter.Id] = _entries.AddLast(deadLetter);
        }

        if (evicted is not null)
        {
            Log.DeadLetterEvicted(_logger, evicted.Envelope.MessageId, evicted.Queue, evicted.Reason, _capacity);
        }

        return default;
    }

    public ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        var limit = query?.Limit ?? int.MaxValue;
        var matches = new List<DeadLetter>();
        lock (_lock)
        {
            for (var node = _entries.First; node is not null && matches.Count < limit; node = node.Next)
            {
                if (query is null || query.Matches(node.Value))
                {
                    matches.Add(node.Value);
                }
            }
        }

        return new ValueTask<IReadOnlyList<DeadLetter>>(matches);
    }

    public ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return new ValueTask<DeadLetter?>(_byId.TryGetValue(id, out var node) ? node.Value : null);
        }
    }

    public ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_byId.Remove(id, out var node))
            {
                return new ValueTask<bool>(false);
            }

            _entries.Remove(node);
            return new ValueTask<bool>(true);
        }
    }

    public ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        lock (_lock)
        {
            var node = _entries.First;
            while (node is not null && removed < (query?.Limit ?? int.MaxValue))
            {
                var next = node.Next;
                if (query is null || query.Matches(node.Value))
                {
                    _byId.Remove(node.Value.Id);
                    _entries.Remove(node);
                    removed++;
                }

                node = next;
            }
        }

        return new ValueTask<int>(removed);
    }
}
