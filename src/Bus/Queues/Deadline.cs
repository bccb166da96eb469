namespace Bus;

/// <summary>A consumer's time limit for one delivery: a timer of the bus's clock that completes <see cref="Passed"/>.</summary>
internal sealed class Deadline : IDisposable
{
    private readonly TaskCompletionSource _passed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ITimer _timer;

    public Deadline(TimeProvider time, TimeSpan timeout)
    {
        Timeout = timeout;
        _timer = time.CreateTimer(static state => ((Deadline)state!)._passed.TrySetResult(), this, timeout, System.Threading.Timeout.InfiniteTimeSpan);
    }

    public TimeSpan Timeout { get; }

    public Task Passed => _passed.Task;

    public void Dispose() => _timer.Dispose();
}
