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

    /// <summary>The type the requester of a request expects, for reading a response that arrived through a broker.</summary>
    public Type? ResponseTypeOf(Guid requestId) => _pending.TryGetValue(requestId, out var request) ? request.ResponseType : null;

    /// <summary>Fails a request whose consumer in another process dead-lettered it; false when none waits for it.</summary>
    public bool TryFaultRemote(Guid requestId, string description) =>
        _pending.TryGetValue(requestId, out var request) && request.TryFaultRemote(description);

    /// <summary>Fails every request still waiting: its replies can no longer arrive (the broker's reply channel is closing).</summary>
    public void FailAllRemote(string description)
    {
        foreach (var (_, request) in _pending)
        {
            request.TryFaultRemote(description);
        }
    }

    /// <summary>Tells the requester that one copy of its request ended in the dead-letter store.</summary>
    public void Fault(DeadLetter deadLetter)
    {
        if (Volatile.Read(ref _count) != 0 && _pending.TryGetValue(deadLetter.Envelope.MessageId, out var request))
        {
            request.Fault(deadLetter);
        }
    }
}

/// <summary>
/// One requester waiting: its response, a fault, its timeout or its cancellation completes it, whichever comes first,
/// through one completion source, so the requester gets exactly one of them.
/// </summary>
/// <remarks>
/// A request published to a fanout reaches several queues; it faults only once every copy has ended in the dead-letter
/// store, so a queue that fails cannot fault a request another queue answers. The number of copies is learned when the
/// publish routes it, possibly after a fast consumer already failed one: until then a large hold keeps the count of
/// copies left from reaching zero.
/// </remarks>
internal abstract class PendingRequest
{
    private const int RoutingHold = 1 << 30;
    private int _copiesLeft = RoutingHold;
    private DeadLetter? _lastFault;

    /// <summary>The publish routed the request to this many queues.</summary>
    public void Routed(int copies)
    {
        if (Interlocked.Add(ref _copiesLeft, copies - RoutingHold) == 0)
        {
            FailWith(Volatile.Read(ref _lastFault));
        }
    }

    public abstract bool TryComplete(object? response);

    /// <summary>The response type the requester expects.</summary>
    public abstract Type ResponseType { get; }

    /// <summary>The request was dead-lettered by a consumer in another process, which replied with why.</summary>
    public abstract bool TryFaultRemote(string description);

    /// <summary>One copy of the request was routed to a queue that was deleted before it took the copy.</summary>
    public void CopyLost()
    {
        if (Interlocked.Decrement(ref _copiesLeft) == 0)
        {
            FailWith(Volatile.Read(ref _lastFault));
        }
    }

    /// <summary>One copy of the request was dead-lettered.</summary>
    public void Fault(DeadLetter deadLetter)
    {
        Volatile.Write(ref _lastFault, deadLetter);
        if (Interlocked.Decrement(ref _copiesLeft) == 0)
        {
            FailWith(deadLetter);
        }
    }

    /// <summary>Every copy ended without a response: in the dead-letter store (the last one given), or in a deleted queue.</summary>
    protected abstract void FailWith(DeadLetter? deadLetter);
}

/// <inheritdoc cref="PendingRequest"/>
internal sealed class PendingRequest<TResponse> : PendingRequest, IDisposable
{
    // Continuations run asynchronously: completing a request must not run the requester on the responder's thread.
    private readonly TaskCompletionSource<TResponse> _response = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Type _requestType;
    private readonly TimeSpan _timeout;
    private ITimer? _timer;
    private CancellationTokenRegistration _cancellation;

    public PendingRequest(Type requestType, TimeSpan timeout)
    {
        _requestType = requestType;
        _timeout = timeout;
    }

    public Task<TResponse> Response => _response.Task;

    /// <summary>Starts the timeout and watches the token; whichever fires first ends the request, unless a response did.</summary>
    public void StartWaiting(TimeProvider time, CancellationToken cancellationToken)
    {
        if (_timeout != Timeout.InfiniteTimeSpan)
        {
            _timer = time.CreateTimer(
                static state => ((PendingRequest<TResponse>)state!).TimedOut(),
                this,
                _timeout,
                Timeout.InfiniteTimeSpan);
        }

        if (cancellationToken.CanBeCanceled)
        {
            _cancellation = cancellationToken.UnsafeRegister(
                static (state, token) => ((PendingRequest<TResponse>)state!)._response.TrySetCanceled(token),
                this);
        }
    }

    public override bool TryComplete(object? response) => response is TResponse typed
        ? _response.TrySetResult(typed)
        : _response.TrySetException(new RequestFaultException(
            $"The response to {_requestType} is {response?.GetType().ToString() ?? "null"}; the requester expects {typeof(TResponse)}."));

    public override Type ResponseType => typeof(TResponse);

    public override bool TryFaultRemote(string description) =>
        _response.TrySetException(new RequestFaultException($"The request {_requestType} was dead-lettered by its consumer, without a response: {description}"));

    public void Dispose()
    {
        _timer?.Dispose();
        _cancellation.Dispose();
    }

    protected override void FailWith(DeadLetter? deadLetter) => _response.TrySetException(deadLetter is null
        ? new RequestFaultException($"No queue took the request {_requestType}: the queues it was routed to were deleted before they accepted it.")
        : new RequestFaultException(_requestType, deadLetter));

    private void TimedOut() => _response.TrySetException(new RequestTimeoutException(_requestType, _timeout));
}
