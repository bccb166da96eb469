using System.Threading.Tasks.Sources;

namespace Bus;

/// <summary>
/// A reusable one-waiter signal: a read loop waits on it for a free slot, and waiting allocates nothing. Its owner
/// resets it and sets it under its own lock, so a signal is never set twice for one wait; continuations run on the
/// thread pool, never inside that lock.
/// </summary>
internal sealed class SlotSignal : IValueTaskSource<bool>
{
    private ManualResetValueTaskSourceCore<bool> _core = new() { RunContinuationsAsynchronously = true };

    /// <summary>Arms the signal for the next wait; call before publishing that someone waits.</summary>
    public void Reset() => _core.Reset();

    /// <summary>Ends the wait: true when a slot was freed, false when the queue aborted.</summary>
    public void Set(bool result) => _core.SetResult(result);

    public ValueTask<bool> WaitAsync() => new(this, _core.Version);

    bool IValueTaskSource<bool>.GetResult(short token) => _core.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}
