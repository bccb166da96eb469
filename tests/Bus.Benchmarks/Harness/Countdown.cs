namespace Bus.Benchmarks;

/// <summary>
/// The definition of done shared by every scenario: the consumer body ran the expected number of times. Consumers call
/// <see cref="Signal"/>; the benchmark awaits <see cref="WaitAsync"/>.
/// </summary>
public sealed class Countdown
{
    private TaskCompletionSource _done = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _remaining;

    /// <summary>Arms the countdown for the next run.</summary>
    public void Reset(int count)
    {
        _done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _remaining, count);
    }

    /// <summary>The trivial consumer work: one decrement.</summary>
    public void Signal()
    {
        if (Interlocked.Decrement(ref _remaining) == 0)
        {
            _done.TrySetResult();
        }
    }

    /// <summary>Signals still expected: below zero when the consumer ran more often than armed for (a duplicate).</summary>
    public int Remaining => Volatile.Read(ref _remaining);

    public Task WaitAsync() => _done.Task.WaitAsync(TimeSpan.FromMinutes(2));
}
