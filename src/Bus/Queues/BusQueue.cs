using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// A queue: transport storage, the workers that consume from it, the overflow for publishes made by consumers, and
/// the counters that tell when it is idle.
/// </summary>
/// <remarks>
/// <para>
/// Accounting: every message a publisher offers increments <see cref="_enqueued"/> before it enters the storage, and
/// ends exactly once: consumed, skipped as a duplicate, dead-lettered, dropped (and dead-lettered), or withdrawn (the
/// publish did not go through). A message waiting for a delayed retry is still pending, counted in and out of the
/// schedule. All counters only grow, so <see cref="BusTopology.IsIdle"/> can take a consistent snapshot by reading
/// them twice.
/// </para>
/// <para>
/// Storage is in lanes (<see cref="QueueLane"/>): one shared by all workers, or one per worker when the queue is
/// partitioned by key, so that one worker alone consumes each key, in order.
/// </para>
/// </remarks>
[DebuggerDisplay("Queue {Name,nq}: depth {Depth}, pending {Pending}")]
internal sealed class BusQueue
{
    private readonly Lock _lock = new();
    private readonly List<UnprocessedMessage> _returned = [];
    private readonly CancellationTokenSource _consumerCancellation = new();
    private readonly QueueLane[] _lanes;
    private readonly PartitionKey[] _partitionKeys;
    private volatile bool _closed;
    private volatile bool _aborted;
    private volatile ConsumerRegistration[] _registrations = [];
    private volatile QueueWorker[] _workers = [];
    private PaddedCounter _enqueued;
    private long _dropped;
    private long _withdrawn;
    private long _requeued;
    private long _endedByBus;
    private volatile bool _deleted;

    public BusQueue(MessageBus bus, string name, QueueOptions options, IMessageTransport transport)
    {
        Bus = bus;
        Name = name;
        Options = options.Clone();
        TimeToLiveMilliseconds = Options.TimeToLive is { } ttl ? (uint)Math.Ceiling(ttl.TotalMilliseconds) : 0;
        Deduplication = Options.DeduplicationCapacity > 0 ? new DeduplicationWindow(Options.DeduplicationCapacity) : null;
        _partitionKeys = [.. Options.PartitionKeys];
        _lanes = CreateLanes(transport);
        Route = [this];
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    public MessageBus Bus { get; }

    /// <summary>A route to this queue alone, for point-to-point sends.</summary>
    public BusQueue[] Route { get; }

    /// <summary>The queue's time to live in milliseconds, 0 for none.</summary>
    public uint TimeToLiveMilliseconds { get; }

    public DeduplicationWindow? Deduplication { get; }

    /// <summary>The retry policy of consumers that set none: the queue's, else the bus's.</summary>
    public IRetryPolicy RetryPolicy => Options.RetryPolicy ?? Bus.Options.RetryPolicy;

    public CancellationToken ConsumerToken => _consumerCancellation.Token;

    public bool IsAborted => _aborted;

    /// <summary>Whether the queue was deleted (rather than closed by the bus stopping).</summary>
    public bool IsDeleted => _deleted;

    public int Depth
    {
        get
        {
            var depth = 0;
            foreach (var lane in _lanes)
            {
                depth += lane.Depth;
            }

            return depth;
        }
    }

    public long Pending
    {
        get
        {
            var counters = ReadCounters();
            return counters.Enqueued - counters.Finished;
        }
    }

    public EnqueueStatus TryEnqueue(in Envelope envelope, QueueWorker? origin)
    {
        Interlocked.Increment(ref _enqueued.Value);
        var lane = LaneOf(envelope);

        // A consumer's publish goes behind messages it (or another consumer) already parked, to keep its order; only
        // Wait mode parks consumers' publishes, so other modes always try the storage.
        if ((origin is null || !lane.HasParked || Options.FullMode != QueueFullMode.Wait) && lane.TryStore(envelope))
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

        if (origin is null)
        {
            return EnqueueStatus.Full;
        }

        var parked = lane.Park(envelope);
        if (parked != EnqueueStatus.Accepted)
        {
            Withdraw();
        }

        return parked;
    }

    /// <summary>Waits for room; called after <see cref="TryEnqueue"/> returned <see cref="EnqueueStatus.Full"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<EnqueueStatus> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var lane = LaneOf(envelope);
        try
        {
            while (await lane.WaitForRoomAsync(cancellationToken).ConfigureAwait(false))
            {
                if (lane.TryStore(envelope))
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

    /// <summary>
    /// Puts back a message whose retry came due. It was counted when first accepted, so it is not counted again, and
    /// it never waits: a full queue parks it (the retry schedule's capacity bounds these).
    /// </summary>
    public void Requeue(in Envelope envelope)
    {
        // Out of the schedule before into the storage: in between it counts as pending, never as gone.
        Interlocked.Increment(ref _requeued);
        if (AcceptUnbounded(envelope) == EnqueueStatus.Closed)
        {
            // Closed while the retry was on its way: the stop or delete collects it from here.
            ReturnUnprocessed([envelope], wereInFlight: false);
        }
    }

    /// <summary>
    /// Accepts a scheduled message that came due. Like a retry it never waits (a full queue parks it; the schedule's
    /// capacity bounds these), but it is a new message for this queue, so it is counted in.
    /// </summary>
    public void AcceptScheduled(in Envelope envelope)
    {
        Interlocked.Increment(ref _enqueued.Value);
        if (AcceptUnbounded(envelope) == EnqueueStatus.Closed)
        {
            ReturnUnprocessed([envelope], wereInFlight: false);
        }
    }

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

            if (_registrations.Length > 0 && (registration.IsBatch || _registrations[0].IsBatch))
            {
                throw new InvalidOperationException(
                    $"Queue '{Name}' would be read by a batch consumer and by another consumer ({_registrations[0].ConsumerType}, {registration.ConsumerType}); a batch consumer needs a queue of its own.");
            }

            _registrations = [.. _registrations, registration];
        }

        if (Bus.State == BusState.Running)
        {
            StartWorkers();
        }
    }

    /// <summary>The batch consumer that has this queue to itself, if it has one.</summary>
    public BatchConsumerRegistration? BatchRegistration => _registrations is [BatchConsumerRegistration batch] ? batch : null;

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
                var lane = _lanes[i % _lanes.Length];
                workers[i] = BatchRegistration is { } batch ? new BatchWorker(this, lane, i, batch) : new MessageWorker(this, lane, i);
            }

            _workers = workers;
            foreach (var worker in workers)
            {
                worker.Start();
            }
        }
    }

    /// <summary>Marks the queue deleted, then closes it.</summary>
    public void Delete()
    {
        _deleted = true;
        Close();
    }

    /// <summary>Refuses further messages. Workers take what is left, then stop.</summary>
    public void Close()
    {
        lock (_lock)
        {
            _closed = true;
        }

        foreach (var lane in _lanes)
        {
            lane.Close();
        }
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

    /// <summary>
    /// Takes every message that will not be processed: stuck in a consumer, returned by workers, parked or stored.
    /// Called once the workers were aborted: a worker inside a consumer has its message taken over (whatever the
    /// consumer does later no longer counts); the others are about to stop, and are waited for so that what they
    /// hand back is in the result.
    /// </summary>
    public async Task<List<UnprocessedMessage>> CollectUnprocessedAsync()
    {
        var unprocessed = new List<UnprocessedMessage>();
        var stopping = new List<Task>();
        foreach (var worker in _workers)
        {
            if (!worker.TryTakeOverInFlight(unprocessed))
            {
                stopping.Add(worker.Completion);
            }
        }

        await Task.WhenAll(stopping).ConfigureAwait(false);
        lock (_lock)
        {
            unprocessed.AddRange(_returned);
            _returned.Clear();
        }

        foreach (var lane in _lanes)
        {
            lane.TakeAll(Name, unprocessed);
        }

        return unprocessed;
    }

    /// <summary>
    /// Dead-letters a message the bus could not process (stop or delete), and counts it as ended. It is in the
    /// caller's report as well, so a dead-letter store that fails here is logged and does not fail the stop.
    /// </summary>
    public async ValueTask DeadLetterUnprocessedAsync(UnprocessedMessage message, DeadLetterReason reason, string description)
    {
        var attempts = message.Envelope.DeliveryCount - (message.WasInFlight ? 0 : 1);
        try
        {
            await DeadLetterAsync(message.Envelope, reason, description, null, attempts).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.DeliveryBroke(Bus.Logger, exception, message.Envelope.MessageId, message.Envelope.MessageType, Name);
        }
        finally
        {
            Interlocked.Increment(ref _endedByBus);
        }
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

    /// <summary>
    /// Ends a message in the dead-letter store with its reason, and logs it. Attempts is how many deliveries failed.
    /// </summary>
    public ValueTask DeadLetterAsync(Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts) =>
        Bus.DeadLetterAsync(Name, envelope, reason, description, exception, attempts);

    /// <summary>Wakes idle waiters when this queue has nothing left to do now; cheap when nobody waits.</summary>
    public void NotifyIfIdle()
    {
        if (Bus.Idle.HasWaiters)
        {
            var counters = ReadCounters();
            if (counters.Enqueued - counters.Finished - counters.WaitingForTime == 0)
            {
                Bus.Idle.Signal();
            }
        }
    }

    /// <summary>Reads the monotonic counters (see the class remarks).</summary>
    public QueueCounters ReadCounters()
    {
        long finished = Volatile.Read(ref _dropped) + Volatile.Read(ref _withdrawn) + Volatile.Read(ref _endedByBus);
        long scheduled = 0;
        long windowHeld = 0;
        long windowReleased = 0;
        foreach (var worker in _workers)
        {
            finished += worker.Finished;
            scheduled += worker.RetriesScheduled;
            // Held before released, as scheduled before requeued: a count read late errs towards pending.
            windowHeld += worker.WindowHeld;
            windowReleased += worker.WindowReleased;
        }

        var requeued = Volatile.Read(ref _requeued);

        // Read last: a message that finishes after the reads above still counts as pending, never as gone.
        var enqueued = Volatile.Read(ref _enqueued.Value);
        return new QueueCounters(enqueued, finished, scheduled, requeued, windowHeld, windowReleased);
    }

    public QueueStatistics GetStatistics()
    {
        var statistics = new QueueStatistics(Name, Depth);
        foreach (var worker in _workers)
        {
            worker.AddTo(statistics);
        }

        var counters = ReadCounters();
        statistics.Pending = counters.Enqueued - counters.Finished;
        statistics.WaitingForRetry = counters.WaitingForRetry;
        statistics.Enqueued = counters.Enqueued - Volatile.Read(ref _withdrawn);
        statistics.Dropped = Volatile.Read(ref _dropped);
        statistics.DeadLettered += statistics.Dropped + Volatile.Read(ref _endedByBus);
        return statistics;
    }

    private QueueLane[] CreateLanes(IMessageTransport transport)
    {
        var count = Options.LaneCount;
        if (count == 1)
        {
            return [new QueueLane(transport.CreateQueue(Name, Options, OnDropped), Options.EffectiveOverflowCapacity)];
        }

        // A partition is a queue of its own to the transport, read by one worker; the queue's bounds are shared out.
        var partition = Options.Clone();
        partition.Capacity = DivideRoundingUp(Options.Capacity, count);
        partition.OverflowCapacity = DivideRoundingUp(Options.EffectiveOverflowCapacity, count);
        partition.Concurrency = 1;
        var lanes = new QueueLane[count];
        for (var i = 0; i < count; i++)
        {
            lanes[i] = new QueueLane(transport.CreateQueue($"{Name}#{i}", partition, OnDropped), partition.EffectiveOverflowCapacity);
        }

        return lanes;
    }

    private static int DivideRoundingUp(int value, int divisor) => (int)(((long)value + divisor - 1) / divisor);

    private QueueLane LaneOf(in Envelope envelope)
    {
        var lanes = _lanes;
        return lanes.Length == 1 ? lanes[0] : lanes[(int)((uint)PartitionHash(envelope) % (uint)lanes.Length)];
    }

    private int PartitionHash(in Envelope envelope)
    {
        foreach (var key in _partitionKeys)
        {
            if (key.MessageType == envelope.MessageType)
            {
                try
                {
                    return key.Hash(envelope.Message);
                }
                catch (Exception exception)
                {
                    // The message is on its way into the queue (or back from a retry or the schedule): losing it or
                    // half-publishing it would be worse than placing it out of order, so it is placed by id, loudly.
                    Log.PartitionKeyFailed(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, Name);
                    break;
                }
            }
        }

        return envelope.MessageId.GetHashCode();
    }

    /// <summary>Stores or parks a message that never waits for room; refused only when the queue is closed.</summary>
    private EnqueueStatus AcceptUnbounded(in Envelope envelope)
    {
        var lane = LaneOf(envelope);
        return !lane.HasParked && lane.TryStore(envelope) ? EnqueueStatus.Accepted : lane.ParkUnbounded(envelope);
    }

    private void Withdraw()
    {
        Interlocked.Increment(ref _withdrawn);
        NotifyIfIdle();
    }

    private void OnDropped(Envelope envelope)
    {
        Log.MessageDropped(Bus.Logger, Name, envelope.MessageId, envelope.MessageType, Options.FullMode);
        var stored = DeadLetterAsync(envelope, DeadLetterReason.Overflow, $"queue '{Name}' was full ({Options.FullMode})", null, envelope.DeliveryCount - 1);
        if (stored.IsCompletedSuccessfully)
        {
            Dropped();
        }
        else
        {
            _ = DroppedAfterAsync(stored);
        }
    }

    private async Task DroppedAfterAsync(ValueTask stored)
    {
        try
        {
            await stored.ConfigureAwait(false);
        }
        finally
        {
            Dropped();
        }
    }

    private void Dropped()
    {
        Interlocked.Increment(ref _dropped);
        NotifyIfIdle();
    }
}

/// <summary>
/// A queue's monotonic counters at one moment. Pending = <see cref="Enqueued"/> - <see cref="Finished"/>; of those,
/// <see cref="WaitingForRetry"/> wait outside the queue for a delayed retry, and <see cref="WaitingForTime"/> wait for
/// the clock: those plus messages held in batches until their window passes.
/// </summary>
internal readonly record struct QueueCounters(long Enqueued, long Finished, long RetriesScheduled, long Requeued, long WindowHeld, long WindowReleased)
{
    public long WaitingForRetry => RetriesScheduled - Requeued;

    public long WaitingForTime => WaitingForRetry + WindowHeld - WindowReleased;
}
