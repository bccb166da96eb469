namespace Bus.Tests.Support;

/// <summary>
/// Holds consumers until the test opens it, and tells the test how many have arrived: the way to put the bus in a
/// known state (a consumer busy, a queue full) without waiting on the clock.
/// </summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _arrivalWaiters = [];
    private int _arrived;

    public int Arrived => Volatile.Read(ref _arrived);

    public bool IsOpen => _open.Task.IsCompleted;

    public void Open() => _open.TrySetResult();

    /// <summary>Called by a consumer: counts its arrival, then waits for the gate to open.</summary>
    public Task PassAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _arrived++;
            foreach (var waiter in _arrivalWaiters.Where(w => w.Count <= _arrived).ToList())
            {
                waiter.Signal.TrySetResult();
                _arrivalWaiters.Remove(waiter);
            }
        }

        return _open.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when at least <paramref name="count"/> consumers have arrived.</summary>
    public Task WhenArrivedAsync(int count)
    {
        lock (_lock)
        {
            if (_arrived >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _arrivalWaiters.Add((count, signal));
            return signal.Task.WaitAsync(TestBus.Timeout);
        }
    }
}
