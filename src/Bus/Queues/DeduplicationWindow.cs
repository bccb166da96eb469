namespace Bus;

/// <summary>
/// The ids of the messages a queue consumed most recently, at most <c>capacity</c> of them, oldest forgotten first;
/// plus the ids being consumed right now, so that two copies of one message on two workers are not both processed.
/// </summary>
/// <remarks>One lock guards both structures; nothing else runs under it.</remarks>
internal sealed class DeduplicationWindow(int capacity)
{
    private readonly Lock _lock = new();
    private readonly HashSet<Guid> _known = [];
    private readonly Queue<Guid> _consumed = new();

    /// <summary>Claims a message id; false when it was consumed already or is being consumed.</summary>
    public bool TryBegin(Guid messageId)
    {
        lock (_lock)
        {
            return _known.Add(messageId);
        }
    }

    /// <summary>Remembers a consumed id, forgetting the oldest beyond capacity.</summary>
    public void Complete(Guid messageId)
    {
        lock (_lock)
        {
            _consumed.Enqueue(messageId);
            while (_consumed.Count > capacity)
            {
                _known.Remove(_consumed.Dequeue());
            }
        }
    }

    /// <summary>Releases a claim whose delivery failed, so its retry or replay is processed.</summary>
    public void Abandon(Guid messageId)
    {
        lock (_lock)
        {
            _known.Remove(messageId);
        }
    }
}
