using System.Collections.Concurrent;
using System.Diagnostics;

namespace Bus;

/// <summary>
/// Requests waiting for their response, by request message id: bounded by <see cref="BusOptions.MaxPendingRequests"/>,
/// and every entry is removed by the requester itself whatever the outcome (response, fault, timeout, cancellation).
/// </summary>
[DebuggerDisplay("{Count} pending")]
internal sealed class PendingRequests(int capacity)
{
    private readonly ConcurrentDictionary<Guid, PendingRequest> _pending = new();
    private int _count;

    public int Count => Volatile.Read(ref _count);

    public bool TryAdd(Guid requestId, PendingRequest request)
    {
        if (Interlocked.Increment(ref _count) > capacity)
        {
            Interlocked.Decrement(ref _count);
            return false;
        }

        _pending[requestId] = request;
        return true;
    }

    public void Remove(Guid requestId)
    {
        if (_pending.TryRemove(requestId, out _))
        {
            Interlocked.Decrement(ref _count);
        }
    }

    /// <summary>Hands a response to its requester; false when none waits for it (any more).</summary>
    public bool TryRespond(Guid requestId, object? response) =>
        _pending.TryGetValue(requestId, out var request) && request.TryComplete(response);

    /// <summary>Fails the requester of a request that ended in the dead-letter store.</summary>
    public void Fault(DeadLetter deadLetter)
    {
        if (Volatile.Read(ref _count) != 0 && _pending.TryGetValue(deadLetter.Envelope.MessageId, out var request))
        {
            request.Fail(deadLetter);
        }
    }
}

/// <summary>One requester waiting.</summary>
internal abstract class PendingRequest
{
    public abstract bool TryComplete(object? response);

    public abstract void Fail(DeadLetter deadLetter);
}

/// <inheritdoc cref="PendingRequest"/>
internal sealed class PendingRequest<TResponse>(Type requestType) : PendingRequest
{
    // Continuations run asynchronously: completing a request must not run the requester on the responder's thread.
    private readonly TaskCompletionSource<TResponse> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<TResponse> Response => _response.Task;

    public override bool TryComplete(object? response) => response is TResponse typed
        ? _response.TrySetResult(typed)
        : _response.TrySetException(new RequestFaultException(
            $"The response to {requestType} is {response?.GetType().ToString() ?? "null"}; the requester expects {typeof(TResponse)}."));

    public override void Fail(DeadLetter deadLetter) => _response.TrySetException(new RequestFaultException(requestType, deadLetter));
}
