namespace Bus.HealthChecks.Tests.Support;

/// <summary>
/// Holds consumers until the test lets them through, and tells the test how many have arrived: the way to put the bus
/// in a known state (a consumer busy, a queue full) without waiting on the clock. Adapted from Bus.Tests' gate, with
/// <see cref="Release"/> to let consumers through one message at a time.
/// </summary>
public sealed class Gate : IDisposable
{
    private const int OpenPermits = 1_000_000;

    private readonly SemaphoreSlim _permits = new(0);
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _arrivalWaiters = [];
    private int _arrived;
    private int _opened;

    /// <summary>Lets every consumer through, now and later.</summary>
    public void Open()
    {
        if (Interlocked.Exchange(ref _opened, 1) == 0)
        {
            _permits.Release(OpenPermits);
        }
    }

    /// <summary>Lets <paramref name="count"/> consumers through.</summary>
    public void Release(int count) => _permits.Release(count);

    /// <summary>Called by a consumer: counts its arrival, then waits to be let through.</summary>
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

        return _permits.WaitAsync(cancellationToken);
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
            return signal.Task.WaitAsync(HealthBus.Timeout);
        }
    }

    public void Dispose() => _permits.Dispose();
}
