namespace Bus.RabbitMQ.Tests.Support;

/// <summary>A list that tests wait on: each addition checks the waiters' conditions, so a test never polls the clock.</summary>
public sealed class Events<T>
{
    private readonly Lock _lock = new();
    private readonly List<T> _items = [];
    private readonly List<(Func<IReadOnlyList<T>, bool> Done, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyList<T> All
    {
        get
        {
            lock (_lock)
            {
                return [.. _items];
            }
        }
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _items.Count;
            }
        }
    }

    public void Add(T item)
    {
        List<TaskCompletionSource> done = [];
        lock (_lock)
        {
            _items.Add(item);
            IReadOnlyList<T> snapshot = [.. _items];
            foreach (var waiter in _waiters.FindAll(w => w.Done(snapshot)))
            {
                _waiters.Remove(waiter);
                done.Add(waiter.Signal);
            }
        }

        foreach (var signal in done)
        {
            signal.TrySetResult();
        }
    }

    /// <summary>Completes with the items once <paramref name="done"/> holds for them; fails after <paramref name="timeout"/> (default <see cref="BrokerVhost.Timeout"/>).</summary>
    public async Task<IReadOnlyList<T>> WhenAsync(Func<IReadOnlyList<T>, bool> done, TimeSpan? timeout = null, string? what = null)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (done(_items))
            {
                return [.. _items];
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((done, signal));
        }

        try
        {
            await signal.Task.WaitAsync(timeout ?? BrokerVhost.Timeout);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"Waited for {what ?? "a condition"} in vain; {Count} item(s) so far.", exception);
        }

        return All;
    }

    /// <summary>Completes once at least <paramref name="count"/> items match <paramref name="where"/>.</summary>
    public Task<IReadOnlyList<T>> WhenCountAsync(int count, Func<T, bool>? where = null, TimeSpan? timeout = null) =>
        WhenAsync(items => items.Count(where ?? (_ => true)) >= count, timeout, $"{count} matching item(s)");
}
