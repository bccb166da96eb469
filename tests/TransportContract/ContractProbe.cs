using System.Collections.Concurrent;
using System.Globalization;

namespace Bus.TransportContract;

/// <summary>A delivery the bus settled as consumed: the queue and the envelope as the consumer saw it.</summary>
public sealed record ContractDelivery(string Queue, Envelope Envelope)
{
    public object Message => Envelope.Message;
}

/// <summary>
/// What one bus did with the messages of one test, as the bus itself tells it (an <see cref="IBusObserver"/> in the
/// test's container): the deliveries it settled as consumed, its dead letters, and every attempt the consumer made. A
/// test waits on it with <see cref="WhenAsync"/>, which completes as soon as a condition holds: never on the clock.
/// </summary>
/// <remarks>
/// The observer hears of a consumed message when the bus settles it (before a broker's ack) and of a dead letter once
/// the dead-letter store has it, so after a wait a query of the store finds what the probe saw.
/// </remarks>
public sealed class ContractProbe : IBusObserver
{
    private readonly object _lock = new();
    private readonly List<ContractDelivery> _consumed = [];
    private readonly List<DeadLetter> _deadLettered = [];
    private readonly List<ContractDelivery> _retrying = [];
    private readonly List<(Func<bool> Condition, TaskCompletionSource Signal)> _waiters = [];
    private readonly ConcurrentDictionary<Guid, int> _attempts;

    /// <summary>A probe of its own, or one that goes on counting the attempts of <paramref name="previous"/> (an earlier bus on the same queues).</summary>
    public ContractProbe(ContractProbe? previous = null)
    {
        _attempts = previous?._attempts ?? new ConcurrentDictionary<Guid, int>();
    }

    /// <summary>The gate gated work waits at, and a <see cref="Tick"/> opens.</summary>
    public ContractGate Gate { get; } = new();

    public IReadOnlyList<ContractDelivery> Consumed
    {
        get
        {
            lock (_lock)
            {
                return [.. _consumed];
            }
        }
    }

    public IReadOnlyList<DeadLetter> DeadLettered
    {
        get
        {
            lock (_lock)
            {
                return [.. _deadLettered];
            }
        }
    }

    /// <summary>The next attempts of failed deliveries, as the bus scheduled them (a delay waits in the transport or the bus).</summary>
    public IReadOnlyList<ContractDelivery> Retrying
    {
        get
        {
            lock (_lock)
            {
                return [.. _retrying];
            }
        }
    }

    /// <summary>The deliveries consumed from a queue, in the order the bus settled them.</summary>
    public IReadOnlyList<ContractDelivery> ConsumedIn(string queue)
    {
        lock (_lock)
        {
            return _consumed.FindAll(d => d.Queue == queue);
        }
    }

    /// <summary>The ids of the <see cref="Work"/> consumed from a queue, in order.</summary>
    public IReadOnlyList<int> WorkConsumedIn(string queue)
    {
        lock (_lock)
        {
            return [.. _consumed.Where(d => d.Queue == queue && d.Message is Work).Select(d => ((Work)d.Message).Id)];
        }
    }

    /// <summary>Counts an attempt of the consumer at a message; returns which attempt this is, from 1.</summary>
    public int Attempt(Guid messageId) => _attempts.AddOrUpdate(messageId, 1, static (_, attempts) => attempts + 1);

    /// <summary>How many times the consumer was called with a message.</summary>
    public int AttemptsAt(Guid messageId) => _attempts.GetValueOrDefault(messageId);

    void IBusObserver.OnConsumed(in Envelope envelope, string queue, Type consumerType) => Add(_consumed, new ContractDelivery(queue, envelope));

    void IBusObserver.OnDeadLettered(DeadLetter deadLetter) => Add(_deadLettered, deadLetter);

    void IBusObserver.OnRetrying(in Envelope envelope, string queue, TimeSpan delay) => Add(_retrying, new ContractDelivery(queue, envelope));

    /// <summary>Completes once <paramref name="condition"/> holds; fails after <see cref="TransportContractTests.WaitLimit"/>, naming <paramref name="what"/>.</summary>
    public Task WhenAsync(Func<bool> condition, string what)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (condition())
            {
                return Task.CompletedTask;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((condition, signal));
        }

        return BoundedAsync(signal.Task, what);
    }

    /// <summary>Completes once the marker sent to <paramref name="queue"/> was consumed.</summary>
    public Task WhenMarkerConsumedAsync(string queue) =>
        WhenAsync(() => ConsumedIn(queue).Any(d => d.Message is Marker), $"the marker of queue '{queue}'");

    /// <summary>Completes once <paramref name="count"/> <see cref="Work"/> messages were consumed from <paramref name="queue"/>.</summary>
    public Task WhenWorkConsumedAsync(string queue, int count) =>
        WhenAsync(() => WorkConsumedIn(queue).Count >= count, $"{count} work consumed from queue '{queue}'");

    /// <summary>Completes once the <see cref="Work"/> with <paramref name="id"/> was dead-lettered.</summary>
    public Task WhenWorkDeadLetteredAsync(int id) =>
        WhenAsync(() => DeadLettered.Any(d => d.Message is Work work && work.Id == id), $"work {id} dead-lettered");

    private void Add<T>(List<T> list, T item)
    {
        lock (_lock)
        {
            list.Add(item);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Condition())
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }
    }

    private async Task BoundedAsync(Task signal, string what)
    {
        try
        {
            await signal.WaitAsync(TransportContractTests.WaitLimit);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"Waited {TransportContractTests.WaitLimit.TotalSeconds} s for {what}. {Describe()}", exception);
        }
    }

    private string Describe()
    {
        lock (_lock)
        {
            var consumed = string.Join(", ", _consumed.Select(d => $"{d.Queue}: {d.Message} (delivery {d.Envelope.DeliveryCount.ToString(CultureInfo.InvariantCulture)})"));
            var deadLettered = string.Join(", ", _deadLettered.Select(d => $"{d.Queue}: {d.Message} ({d.Reason})"));
            return $"Consumed: [{consumed}]. Dead-lettered: [{deadLettered}]. Gate: {Gate.Arrived.ToString(CultureInfo.InvariantCulture)} arrived, {(Gate.IsOpen ? "open" : "closed")}.";
        }
    }
}

/// <summary>
/// Holds consumers until the test opens it, and tells the test how many have arrived: the way to put a bus in a known
/// state (a consumer busy, messages waiting behind it) without waiting on the clock.
/// </summary>
public sealed class ContractGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
    private int _arrived;

    public int Arrived
    {
        get
        {
            lock (_lock)
            {
                return _arrived;
            }
        }
    }

    public bool IsOpen => _open.Task.IsCompleted;

    public void Open() => _open.TrySetResult();

    /// <summary>Called by a consumer: counts its arrival, then waits for the gate to open or the consumer's token to end.</summary>
    public Task PassAsync(CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            _arrived++;
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (_waiters[i].Count <= _arrived)
                {
                    _waiters[i].Signal.TrySetResult();
                    _waiters.RemoveAt(i);
                }
            }
        }

        return _open.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Completes when at least <paramref name="count"/> consumers have arrived.</summary>
    public async Task WhenArrivedAsync(int count)
    {
        TaskCompletionSource signal;
        lock (_lock)
        {
            if (_arrived >= count)
            {
                return;
            }

            signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
        }

        try
        {
            await signal.Task.WaitAsync(TransportContractTests.WaitLimit);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException($"Waited {TransportContractTests.WaitLimit.TotalSeconds} s for {count} consumer(s) at the gate; {Arrived} arrived.", exception);
        }
    }
}
