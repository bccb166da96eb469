namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// Holds consumers until the test opens it, and tells the test how many have arrived: the way to put a bus in a known
/// state (a consumer busy, deliveries unacknowledged) without waiting on the clock.
/// </summary>
public sealed class Gate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _arrivalWaiters = [];
    private int _arrived;

    public int Arrived => Volatile.Read(ref _arrived);

    public void Open() => _open.TrySetResult();

    /// <summary>Called by a consumer: counts its arrival, then waits for the gate to open (or the token).</summary>
    public Task PassAsync(CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            _arrived++;
            foreach (var waiter in _arrivalWaiters.FindAll(w => w.Count <= _arrived))
            {
                waiter.Signal.TrySetResult();
                _arrivalWaiters.Remove(waiter);
            }
        }

        return _open.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when at least <paramref name="count"/> consumers have arrived.</summary>
    public Task WhenArrivedAsync(int count = 1)
    {
        lock (_lock)
        {
            if (_arrived >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _arrivalWaiters.Add((count, signal));
            return signal.Task.WaitAsync(BrokerVhost.Timeout);
        }
    }
}
