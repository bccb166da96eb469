namespace Bus;

/// <summary>
/// Lets callers wait until the bus is idle without polling: queues signal when they run empty, but only while
/// someone waits, so the hot path pays one volatile read.
/// </summary>
internal sealed class IdleMonitor
{
    private TaskCompletionSource _changed = NewSignal();
    private int _waiters;

    public bool HasWaiters => Volatile.Read(ref _waiters) != 0;

    public void Signal() => Interlocked.Exchange(ref _changed, NewSignal()).TrySetResult();

    public async Task WaitAsync<TState>(Func<TState, bool> isIdle, TState state, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiters);
        try
        {
            while (true)
            {
                // Take the signal before checking: a queue running empty after the check completes this signal.
                var changed = Volatile.Read(ref _changed);

                // Workers write their counters and then read HasWaiters with plain (release/acquire) accesses, which
                // a CPU may reorder. Flushing every core's store buffer here, on the rare waiting side, means either
                // the worker saw this waiter and will signal, or this check sees the worker's counters.
                Interlocked.MemoryBarrierProcessWide();
                if (isIdle(state))
                {
                    return;
                }

                await changed.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _waiters);
        }
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
