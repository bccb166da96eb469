using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// Calls consumers for one slot: the token they get, the queue's <see cref="QueueOptions.ConsumerTimeout"/>, and what
/// came of the call. The message slot and the batch slot both call through it, so a timeout, a cancellation by the
/// stop and a failure mean the same for both.
/// </summary>
/// <remarks>
/// A consumer that completes synchronously costs nothing here. One that overruns its time is abandoned: its token is
/// cancelled, the slot stops waiting for it and takes a fresh token source for the next call, because the abandoned
/// consumer may still hold the old one.
/// </remarks>
internal sealed class ConsumerInvoker
{
    private readonly BusQueue _queue;
    private readonly TimeSpan? _timeout;
    private CancellationTokenSource? _timeoutCancellation;

    public ConsumerInvoker(BusQueue queue)
    {
        _queue = queue;
        _timeout = queue.Options.ConsumerTimeout;
        if (_timeout is not null)
        {
            _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(queue.ConsumerToken);
        }
    }

    /// <summary>The token the next consumer call gets: cancelled at the stop's timeout, and at the consumer timeout.</summary>
    public CancellationToken Token => _timeoutCancellation?.Token ?? _queue.ConsumerToken;

    /// <summary>Starts the time limit of a call, before the consumer starts; null when the queue sets none.</summary>
    public Deadline? StartDeadline() => _timeout is { } timeout ? new Deadline(_queue.Bus.Time, timeout) : null;

    /// <summary>
    /// Whether a failure means the message was not processed because the bus is going away: the stop cancelled the
    /// consumer past the drain timeout, or the container was disposed before the consumer could be created. Such a
    /// message is reported, not failed.
    /// </summary>
    public bool IsNotProcessed(Exception failure) =>
        (failure is OperationCanceledException && _queue.ConsumerToken.IsCancellationRequested) || failure is ServicesDisposedException;

    /// <summary>Waits for a consumer that went asynchronous, within its deadline.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<CallResult> CompleteAsync(ValueTask consumed, Deadline? deadline, Type consumerType, Guid messageId)
    {
        try
        {
            if (deadline is null)
            {
                await consumed.ConfigureAwait(false);
                return default;
            }

            var running = consumed.AsTask();
            await Task.WhenAny(running, deadline.Passed).ConfigureAwait(false);
            if (running.IsCompleted)
            {
                await running.ConfigureAwait(false);
                return default;
            }

            Log.ConsumerTimedOut(_queue.Bus.Logger, consumerType, messageId, _queue.Name, deadline.Timeout);
            Abandon();
            return new CallResult(new TimeoutException($"The consumer {consumerType.Name} did not finish within {deadline.Timeout}."), TimedOut: true);
        }
        catch (Exception exception)
        {
            return new CallResult(exception, TimedOut: false);
        }
        finally
        {
            deadline?.Dispose();
        }
    }

    private void Abandon()
    {
        var overrun = _timeoutCancellation!;
        _timeoutCancellation = CancellationTokenSource.CreateLinkedTokenSource(_queue.ConsumerToken);
        overrun.Cancel();

        // Disposing unlinks it from the queue's token; the abandoned consumer's token stays cancelled.
        overrun.Dispose();
    }
}

/// <summary>What came of a consumer call: nothing (it succeeded), or its failure and whether it was the time limit.</summary>
internal readonly record struct CallResult(Exception? Failure, bool TimedOut);
