namespace Bus;

/// <summary>
/// Lets callers wait until the bus is idle without polling: ledgers signal when they run out of active messages, but
/// only while someone waits, so the hot path pays one volatile read.
/// </summary>
/// <remarks>
/// A waiter registers with an interlocked increment, a full fence, before it looks; a ledger changes its counters with
/// interlocked writes before it reads <see cref="HasWaiters"/>. Either the ledger sees the waiter and signals, or the
/// waiter's look sees the ledger's change.
/// </remarks>
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
                // Take the signal before looking: a ledger running out of work after the look completes this signal.
                var changed = Volatile.Read(ref _changed);
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
