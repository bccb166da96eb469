using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// A queue: transport storage, the workers that consume from it, the overflow for publishes made by consumers, and
/// the counters that tell when it is idle.
/// </summary>
/// <remarks>
/// <para>
/// Accounting: every message a publisher offers increments <see cref="_enqueued"/> before it enters the storage, and
/// leaves through exactly one of: a worker finishing it (consumed or faulted), a drop, or a withdrawal (the publish
/// did not go through). All counters only grow, so <see cref="BusTopology.IsIdle"/> can take a consistent snapshot by
/// reading them twice.
/// </para>
/// <para>
/// The overflow: a consumer that waited for room in a full queue could be waiting for itself (it is the queue's only
/// worker, or the queues form a cycle). So a publish from a consumer parks the message in the overflow instead, and
/// workers take from the overflow before the storage. <see cref="_lock"/> guards the overflow; the transport is only
/// called under it to move parked messages into free room, and the transport never calls back into the queue in Wait
/// mode (the only mode with an overflow), so the lock order cannot invert.
/// </para>
/// </remarks>
[DebuggerDisplay("Queue {Name,nq}: depth {Depth}, pending {Pending}")]
internal sealed class BusQueue
{
    private readonly Lock _lock = new();
    private readonly Queue<Envelope> _overflow = new();
    private readonly List<UnprocessedMessage> _returned = [];
    private readonly CancellationTokenSource _consumerCancellation = new();
    private readonly ITransportQueue _storage;
    private readonly int _overflowCapacity;
    private volatile int _overflowCount;
    private volatile bool _closed;
    private volatile bool _aborted;
    private volatile ConsumerRegistration[] _registrations = [];
    private volatile QueueWorker[] _workers = [];
    private PaddedCounter _enqueued;
    private long _dropped;
    private long _withdrawn;

    public BusQueue(MessageBus bus, string name, QueueOptions options, IMessageTransport transport)
    {
        Bus = bus;
        Name = name;
        Options = options.Clone();
        _overflowCapacity = Options.EffectiveOverflowCapacity;
        _storage = transport.CreateQueue(name, Options, OnDropped);
        Route = [this];
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    public MessageBus Bus { get; }

    /// <summary>A route to this queue alone, for point-to-point sends.</summary>
    public BusQueue[] Route { get; }

    public CancellationToken ConsumerToken => _consumerCancellation.Token;

    public bool IsAborted => _aborted;

    public int Depth => _storage.Count + _overflowCount;

    public long Pending
    {
        get
        {
            ReadCounters(out var enqueued, out var finished);
            return enqueued - finished;
        }
    }

    public IReadOnlyList<ConsumerRegistration> Registrations => _registrations;

    public EnqueueStatus TryEnqueue(in Envelope envelope, QueueWorker? origin)
    {
        Interlocked.Increment(ref _enqueued.Value);

        // A consumer's publish goes behind messages it (or another consumer) already parked, to keep its order.
        if ((origin is null || _overflowCount == 0) && _storage.TryEnqueue(envelope))
        {
            return EnqueueStatus.Accepted;
        }

        if (_closed)
        {
            Withdraw();
            return EnqueueStatus.Closed;
        }

        if (Options.FullMode == QueueFullMode.Reject)
        {
            Withdraw();
            return EnqueueStatus.Rejected;
        }

        return origin is null ? EnqueueStatus.Full : Park(envelope);
    }

    /// <summary>Waits for room; called after <see cref="TryEnqueue"/> returned <see cref="EnqueueStatus.Full"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<EnqueueStatus> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        try
        {
            while (await _storage.WaitToEnqueueAsync(cancellationToken).ConfigureAwait(false))
            {
                if (_storage.TryEnqueue(envelope))
                {
                    return EnqueueStatus.Accepted;
                }
            }
        }
        catch
        {
            Withdraw();
            throw;
        }

        Withdraw();
        return EnqueueStatus.Closed;
    }

    public bool TryTake(out Envelope envelope)
    {
        if (_overflowCount != 0)
        {
            lock (_lock)
            {
                if (_overflow.TryDequeue(out envelope))
                {
                    _overflowCount = _overflow.Count;
                    return true;
                }
            }
        }

        return _storage.TryDequeue(out envelope);
    }

    /// <summary>Whether messages published by consumers are parked beside the full storage.</summary>
    public bool HasParked => _overflowCount != 0;

    public ValueTask<bool> WaitToTakeAsync() =>
        // No token: the channel then reuses one waiter instead of allocating one per wait. Close() ends the wait.
        _storage.WaitToDequeueAsync(CancellationToken.None);

    public void AddRegistration(ConsumerRegistration registration)
    {
        lock (_lock)
        {
            foreach (var existing in _registrations)
            {
                if (existing.MessageType == registration.MessageType)
                {
                    throw new InvalidOperationException(
                        $"Queue '{Name}' already has a consumer for {registration.MessageType}: {existing.ConsumerType}. A queue delivers each message type to one consumer type; give {registration.ConsumerType} its own queue.");
                }
            }

            _registrations = [.. _registrations, registration];
        }

        if (Bus.State == BusState.Running)
        {
            StartWorkers();
        }
    }

    public ConsumerRegistration? FindRegistration(Type messageType)
    {
        foreach (var registration in _registrations)
        {
            if (registration.MessageType == messageType)
            {
                return registration;
            }
        }

        return null;
    }

    /// <summary>Starts the workers once the queue has a consumer; idempotent.</summary>
    public void StartWorkers()
    {
        lock (_lock)
        {
            if (_workers.Length > 0 || _registrations.Length == 0 || _closed)
            {
                return;
            }

            var workers = new QueueWorker[Options.Concurrency];
            for (var i = 0; i < workers.Length; i++)
            {
                workers[i] = new QueueWorker(this);
            }

            _workers = workers;
            foreach (var worker in workers)
            {
                worker.Start();
            }
        }
    }

    /// <summary>Refuses further messages. Workers take what is left, then stop.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }

        _storage.Complete();
    }

    /// <summary>Cancels the consumers' tokens and makes workers stop after their current message.</summary>
    public void Abort()
    {
        _aborted = true;
        _consumerCancellation.Cancel();
        Close();
    }

    public Task WhenWorkersStopped()
    {
        var workers = _workers;
        var tasks = new Task[workers.Length];
        for (var i = 0; i < workers.Length; i++)
        {
            tasks[i] = workers[i].Completion;
        }

        return Task.WhenAll(tasks);
    }

    /// <summary>Takes every message that will not be processed: returned by workers, parked, stored, or stuck in a consumer.</summary>
    public List<UnprocessedMessage> CollectUnprocessed()
    {
        var unprocessed = new List<UnprocessedMessage>();
        lock (_lock)
        {
            unprocessed.AddRange(_returned);
            _returned.Clear();
            while (_overflow.TryDequeue(out var parked))
            {
                unprocessed.Add(new UnprocessedMessage(Name, parked, wasInFlight: false));
            }

            _overflowCount = 0;
        }

        while (_storage.TryDequeue(out var stored))
        {
            unprocessed.Add(new UnprocessedMessage(Name, stored, wasInFlight: false));
        }

        foreach (var worker in _workers)
        {
            if (!worker.Completion.IsCompleted && worker.TryGetInFlight(out var inFlight))
            {
                unprocessed.Add(new UnprocessedMessage(Name, inFlight, wasInFlight: true));
            }
        }

        return unprocessed;
    }

    /// <summary>Called by a worker that stops with messages it took but did not process.</summary>
    public void ReturnUnprocessed(ReadOnlySpan<Envelope> envelopes, bool wereInFlight)
    {
        lock (_lock)
        {
            foreach (var envelope in envelopes)
            {
                _returned.Add(new UnprocessedMessage(Name, envelope, wereInFlight));
            }
        }
    }

    public void OnFaulted(in Envelope envelope, Type? consumerType, Exception exception)
    {
        // The retry and dead-letter policies attach here; until then a failure is logged and counted, never dropped silently.
        if (consumerType is null)
        {
            Log.NoConsumer(Bus.Logger, Name, envelope.MessageId, envelope.MessageType);
        }
        else
        {
            Log.ConsumerFailed(Bus.Logger, exception, consumerType, envelope.MessageId, envelope.MessageType, Name);
        }
    }

    /// <summary>Wakes idle waiters when this queue has nothing left; cheap when nobody waits.</summary>
    public void NotifyIfIdle()
    {
        if (Bus.Idle.HasWaiters && Pending == 0)
        {
            Bus.Idle.Signal();
        }
    }

    /// <summary>Reads the monotonic counters: how many messages entered, and how many left in any way.</summary>
    public void ReadCounters(out long enqueued, out long finished)
    {
        finished = Volatile.Read(ref _dropped) + Volatile.Read(ref _withdrawn);
        foreach (var worker in _workers)
        {
            finished += worker.Consumed + worker.Faulted;
        }

        // Read after the finished counters: a message finished after that read is still counted as pending.
        enqueued = Volatile.Read(ref _enqueued.Value);
    }

    public QueueStatistics GetStatistics()
    {
        long consumed = 0, faulted = 0;
        foreach (var worker in _workers)
        {
            consumed += worker.Consumed;
            faulted += worker.Faulted;
        }

        return new QueueStatistics(
            Name,
            Depth,
            Pending,
            Volatile.Read(ref _enqueued.Value) - Volatile.Read(ref _withdrawn),
            consumed,
            faulted,
            Volatile.Read(ref _dropped));
    }

    private EnqueueStatus Park(in Envelope envelope)
    {
        lock (_lock)
        {
            if (_closed)
            {
                Withdraw();
                return EnqueueStatus.Closed;
            }

            if (_overflow.Count >= _overflowCapacity)
            {
                Withdraw();
                return EnqueueStatus.OverflowFull;
            }

            _overflow.Enqueue(envelope);

            // Room may have appeared since the failed write; moving parked messages into it now means a worker that
            // found both empty and went to sleep on the storage is woken.
            while (_overflow.TryPeek(out var head) && _storage.TryEnqueue(head))
            {
                _overflow.Dequeue();
            }

            _overflowCount = _overflow.Count;
        }

        return EnqueueStatus.Accepted;
    }

    private void Withdraw()
    {
        Interlocked.Increment(ref _withdrawn);
        NotifyIfIdle();
    }

    private void OnDropped(Envelope envelope)
    {
        Interlocked.Increment(ref _dropped);
        Log.MessageDropped(Bus.Logger, Name, envelope.MessageId, envelope.MessageType, Options.FullMode);
        NotifyIfIdle();
    }
}
