using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Bus;

/// <summary>
/// A queue: its lanes of storage, the readers and consumer slots that consume them, its <see cref="QueueLedger"/> and
/// its <see cref="QueueSettlement"/>. Publishers come in through <see cref="TryEnqueue"/>; the retry schedule and the
/// scheduled publishes through <see cref="Requeue"/> and <see cref="AcceptScheduled"/>.
/// </summary>
/// <remarks>
/// Storage is in lanes (<see cref="QueueLane"/>): one shared by all consumer slots, or one per slot when the queue is
/// partitioned by key, so that one slot alone consumes each key, in order.
/// </remarks>
[DebuggerDisplay("Queue {Name,nq}: depth {Depth}, pending {Ledger.Pending}")]
internal sealed class BusQueue : IDeliveryTarget
{
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _consumerCancellation = new();
    private readonly QueueLane[] _lanes;
    private readonly PartitionKey[] _partitionKeys;
    private volatile bool _closed;
    private volatile bool _aborted;
    private volatile bool _deleted;
    private volatile ConsumerRegistration[] _registrations = [];
    private readonly bool _drops;
    private int _dropsSettling;
    private volatile QueueReader[] _readers = [];
    private readonly IBrokerTransport? _broker;
    private LeasedBuffer[]? _buffers;
    private volatile IBrokerConsumer? _consumer;
    private string? _processSpanName;
    private string? _sendSpanName;

    public BusQueue(MessageBus bus, string name, QueueOptions options, IMessageTransport transport)
    {
        Bus = bus;
        Name = name;
        Options = options.Clone();
        TimeToLiveTicks = Options.TimeToLive?.Ticks ?? 0;
        Deduplication = Options.DeduplicationCapacity > 0 ? new DeduplicationWindow(Options.DeduplicationCapacity) : null;
        _partitionKeys = [.. Options.PartitionKeys];
        _drops = Options.FullMode is QueueFullMode.DropOldest or QueueFullMode.DropNewest;
        Ledger = new QueueLedger(name, bus.Idle);
        Settlement = new QueueSettlement(this);
        _broker = (transport.Features & TransportFeatures.OwnsRouting) != 0 ? transport as IBrokerTransport : null;
        RetriesWaitInBroker = _broker is not null && (transport.Features & TransportFeatures.DurableDelays) != 0;
        _lanes = _broker is null ? CreateLanes(transport) : CreateBrokerLanes((transport.Features & TransportFeatures.Durable) != 0);
        Route = [this];
    }

    public string Name { get; }

    public QueueOptions Options { get; }

    public MessageBus Bus { get; }

    public QueueLedger Ledger { get; }

    public QueueSettlement Settlement { get; }

    /// <summary>A route to this queue alone, for point-to-point sends.</summary>
    public BusQueue[] Route { get; }

    /// <summary>The queue's time to live in ticks, 0 for none.</summary>
    public long TimeToLiveTicks { get; }

    public DeduplicationWindow? Deduplication { get; }

    /// <summary>The broker that holds this queue's messages, or null in memory.</summary>
    public IBrokerTransport? Broker => _broker;

    /// <summary>Whether delayed retries wait in the broker (<see cref="TransportFeatures.DurableDelays"/>).</summary>
    public bool RetriesWaitInBroker { get; }

    /// <summary>The name of the queue's consumer spans, "process {queue}", made once rather than per delivery.</summary>
    public string ProcessSpanName => _processSpanName ??= $"{TelemetryTags.Process} {Name}";

    /// <summary>The name of the spans of sends to this queue, "send {queue}", made once.</summary>
    public string SendSpanName => _sendSpanName ??= $"{TelemetryTags.Send} {Name}";

    /// <summary>The retry policy of consumers that set none: the queue's, else the bus's.</summary>
    public IRetryPolicy RetryPolicy => Options.RetryPolicy ?? Bus.Options.RetryPolicy;

    public CancellationToken ConsumerToken => _consumerCancellation.Token;

    public bool IsAborted => _aborted;

    /// <summary>Whether the queue refuses messages: closed by a stop, aborted, or deleted.</summary>
    public bool IsClosed => _closed;

    /// <summary>Whether the queue was deleted (rather than closed by the bus stopping).</summary>
    public bool IsDeleted => _deleted;

    /// <summary>Messages waiting in the lanes, parked ones included: it can exceed the capacity by what is parked.</summary>
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

    /// <summary>Consumer slots busy: consuming, holding prefetched messages, or settling.</summary>
    public int BusySlots
    {
        get
        {
            var busy = 0;
            foreach (var reader in _readers)
            {
                busy += reader.BusySlots;
            }

            return busy;
        }
    }

    /// <summary>Read loops that ended on a failure of the bus itself.</summary>
    public int ReaderFaults
    {
        get
        {
            var faults = 0;
            foreach (var reader in _readers)
            {
                faults += reader.Faults;
            }

            return faults;
        }
    }

    /// <summary>The timestamp of the message that has waited longest in the lanes, or null when they are empty.</summary>
    public long? OldestTimestampTicks
    {
        get
        {
            long? oldest = null;
            foreach (var lane in _lanes)
            {
                if (lane.TryGetOldestTimestamp(out var ticks) && (oldest is null || ticks < oldest))
                {
                    oldest = ticks;
                }
            }

            return oldest;
        }
    }

    /// <summary>
    /// Counts a publish in and stores it if there is room. A consumer's publish (<paramref name="origin"/> set) never
    /// waits: it parks beside a full queue in Wait mode. <see cref="EnqueueStatus.Full"/> asks the publisher to wait with
    /// <see cref="EnqueueAsync"/>; the message is not counted meanwhile.
    /// </summary>
    public EnqueueStatus TryEnqueue(in Envelope envelope, ConsumerSlot? origin)
    {
        Ledger.Accept();
        var lane = LaneOf(envelope);

        // A consumer's publish goes behind messages it (or another consumer) already parked, to keep its order; only
        // Wait mode parks consumers' publishes, so other modes always try the storage.
        if ((origin is null || !lane.HasParked || Options.FullMode != QueueFullMode.Wait) && Store(lane, envelope))
        {
            return EnqueueStatus.Accepted;
        }

        var status = _closed ? EnqueueStatus.Closed
            : Options.FullMode == QueueFullMode.Reject ? EnqueueStatus.Rejected
            : origin is null ? EnqueueStatus.Full
            : lane.Park(envelope);
        if (status != EnqueueStatus.Accepted)
        {
            Ledger.Withdraw();
        }

        return status;
    }

    /// <summary>Waits for room, then counts the message in and stores it; after <see cref="TryEnqueue"/> said Full.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<EnqueueStatus> EnqueueAsync(Envelope envelope, CancellationToken cancellationToken)
    {
        var lane = LaneOf(envelope);
        while (await lane.WaitForRoomAsync(cancellationToken).ConfigureAwait(false))
        {
            Ledger.Accept();
            if (Store(lane, envelope))
            {
                return EnqueueStatus.Accepted;
            }

            Ledger.Withdraw();
        }

        return EnqueueStatus.Closed;
    }

    /// <summary>
    /// Puts back a message whose retry came due. It was counted when first accepted, so it is not counted again, and
    /// it never waits: a full queue parks it (the retry schedule's capacity bounds these).
    /// </summary>
    public void Requeue(in Envelope envelope)
    {
        // Active again before it can be taken: in between it counts as pending, never as gone.
        Ledger.Resume(WaitKind.Schedule);
        if (AcceptUnbounded(envelope) == EnqueueStatus.Closed)
        {
            // Closed while the retry was on its way: the stop or the deletion reports it.
            Settlement.SetAside(envelope, wasInFlight: false);
        }
    }

    /// <summary>
    /// Accepts a scheduled message that came due. Like a retry it never waits (a full queue parks it; the schedule's
    /// capacity bounds these), but it is a new message for this queue, so it is counted in.
    /// </summary>
    public void AcceptScheduled(in Envelope envelope)
    {
        Ledger.Accept();
        if (AcceptUnbounded(envelope) == EnqueueStatus.Closed)
        {
            Settlement.SetAside(envelope, wasInFlight: false);
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

        // Over a broker, a type arriving is read only if the bus knows it.
        Bus.KnowMessageType(registration.MessageType);

        if (Bus.State == BusState.Running)
        {
            StartReaders();
        }
    }

    /// <summary>The message types the queue's consumers take.</summary>
    public IEnumerable<Type> MessageTypes
    {
        get
        {
            foreach (var registration in _registrations)
            {
                yield return registration.MessageType;
            }
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

    /// <summary>Starts reading once the queue has a consumer; idempotent.</summary>
    public void StartReaders()
    {
        lock (_lock)
        {
            if (_readers.Length > 0 || _registrations.Length == 0 || _closed)
            {
                return;
            }

            var batch = BatchRegistration;
            var readers = new QueueReader[_lanes.Length];
            for (var i = 0; i < readers.Length; i++)
            {
                // A partition is read by one slot, named by its index; a shared lane by all of them.
                readers[i] = _lanes.Length > 1
                    ? new QueueReader(this, _lanes[i], i, 1, batch)
                    : new QueueReader(this, _lanes[i], 0, Options.Concurrency, batch);
            }

            _readers = readers;
            foreach (var reader in readers)
            {
                reader.Start();
            }

            if (_broker is not null)
            {
                // Readers first: the broker may deliver at once, and its deliveries wait in the lanes for them.
                var consumer = _broker.Consume(Name, Options, this);
                foreach (var buffer in _buffers!)
                {
                    buffer.Consumer = consumer;
                }

                _consumer = consumer;
            }
        }
    }

    /// <summary>
    /// Stops the broker's consumer of this queue, if it has one: no new deliveries, and those handed over are still
    /// consumed or requeued. Called before a stop drains, so that the drain can end under a steady stream.
    /// </summary>
    public Task StopConsumingAsync() => _consumer?.StopAsync() ?? Task.CompletedTask;

    /// <summary>Closes the broker's consumer of this queue (its deletion): what it had not settled goes back to the broker.</summary>
    public Task CloseConsumerAsync() => _consumer?.CloseAsync() ?? Task.CompletedTask;

    /// <inheritdoc />
    public bool Deliver(in Envelope envelope, long lease)
    {
        if (_closed)
        {
            return false;
        }

        Ledger.Accept();
        if (((LeasedBuffer)LaneOf(envelope).Storage).Add(envelope, lease))
        {
            return true;
        }

        Ledger.Withdraw();
        return false;
    }

    /// <inheritdoc />
    public ValueTask RefuseAsync(Envelope raw, DeadLetterReason reason, string description)
    {
        Ledger.Accept();
        return Settlement.DeadLetterAsync(raw, reason, description, null, raw.DeliveryCount);
    }

    /// <summary>Whether a message's time to live, or the queue's, has run out: the shorter wins, as in RabbitMQ.</summary>
    public bool IsExpired(in Envelope envelope)
    {
        var own = envelope.TimeToLiveTicks;
        var queue = TimeToLiveTicks;
        if ((own | queue) == 0)
        {
            return false;
        }

        var limit = own == 0 ? queue : queue == 0 ? own : Math.Min(own, queue);
        return Bus.Clock.UtcNow().UtcTicks >= envelope.TimestampTicks + limit;
    }

    /// <summary>Marks the queue deleted, then closes it.</summary>
    public void Delete()
    {
        _deleted = true;
        Close();
    }

    /// <summary>Refuses further messages. Readers take what is left, then end.</summary>
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

    /// <summary>Cancels the consumers' tokens and makes slots stop after their current message.</summary>
    public void Abort()
    {
        _aborted = true;
        _consumerCancellation.Cancel();
        Close();
        foreach (var reader in _readers)
        {
            reader.Abort();
        }
    }

    /// <summary>Completes when the readers have taken everything and ended, after <see cref="Close"/>.</summary>
    public Task WhenQuietAsync()
    {
        var readers = _readers;
        var quiet = new Task[readers.Length];
        for (var i = 0; i < readers.Length; i++)
        {
            quiet[i] = readers[i].WhenQuietAsync();
        }

        return Task.WhenAll(quiet);
    }

    /// <summary>How long, on the system clock, collecting waits for slots still settling after a take-over.</summary>
    internal static readonly TimeSpan SettleLimit = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Takes every message that will not be processed, once the queue was closed (and is quiet) or aborted: with
    /// <paramref name="takeOver"/>, those in consumers that still run (whatever those consumers do later no longer
    /// counts); then those set aside, parked or stored. Each is counted as reported.
    /// </summary>
    public async Task<List<UnprocessedMessage>> CollectAsync(bool takeOver)
    {
        var report = new List<UnprocessedMessage>();
        if (takeOver)
        {
            foreach (var reader in _readers)
            {
                reader.TakeOver(report);
            }
        }

        // What is left runs bus code (or the application's dead-letter store, retry policy or observers, called while
        // settling): it gets a bounded moment, so a store that hangs cannot hang the stop.
        try
        {
            await Task.WhenAll(WhenQuietAsync(), WhenDropsSettledAsync()).WaitAsync(SettleLimit, TimeProvider.System).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Log.QueueNotQuiet(Bus.Logger, Name, SettleLimit);
        }

        foreach (var reader in _readers)
        {
            reader.StopWatching();
        }

        var left = new List<Envelope>();
        foreach (var lane in _lanes)
        {
            lane.TakeAll(left);
        }

        Settlement.Report(report, CollectionsMarshal.AsSpan(left), wereInFlight: false);
        Settlement.TakeReport(report);
        return report;
    }

    public QueueStatistics GetStatistics()
    {
        var depth = Depth;
        var statistics = new QueueStatistics(Name, depth, Options.Capacity);
        Ledger.AddTo(statistics);
        statistics.InFlight = Math.Max(0, statistics.Pending - statistics.WaitingForRetry - statistics.WaitingInBatches - depth);
        return statistics;
    }

    private QueueLane[] CreateLanes(IMessageTransport transport)
    {
        var hasLeases = (transport.Features & TransportFeatures.Leases) != 0;
        var count = Options.LaneCount;
        if (count == 1)
        {
            return [new QueueLane(this, Name, transport.CreateQueue(Name, Options, OnDropped), Options.EffectiveOverflowCapacity, hasLeases, returnsRequeued: false)];
        }

        // A partition is a queue of its own to the transport, read by one slot; the queue's bounds are shared out.
        var partition = Options.Clone();
        partition.Capacity = DivideRoundingUp(Options.Capacity, count);
        partition.OverflowCapacity = DivideRoundingUp(Options.EffectiveOverflowCapacity, count);
        partition.Concurrency = 1;
        var lanes = new QueueLane[count];
        for (var i = 0; i < count; i++)
        {
            var name = $"{Name}#{i}";
            lanes[i] = new QueueLane(this, name, transport.CreateQueue(name, partition, OnDropped), partition.EffectiveOverflowCapacity, hasLeases, returnsRequeued: false);
        }

        return lanes;
    }

    /// <summary>
    /// The lanes of a queue on a broker: the broker holds the messages and bounds them, the lanes only what its consumer
    /// prefetched. A partitioned queue keeps its lanes in process too: the broker delivers the queue in order to one
    /// active consumer, and the lanes keep each key in order from there (see the RabbitMQ transport's docs).
    /// </summary>
    private QueueLane[] CreateBrokerLanes(bool durable)
    {
        var count = Options.LaneCount;
        var buffers = new LeasedBuffer[count];
        var lanes = new QueueLane[count];
        for (var i = 0; i < count; i++)
        {
            buffers[i] = new LeasedBuffer();
            lanes[i] = new QueueLane(this, count == 1 ? Name : $"{Name}#{i}", buffers[i], Options.EffectiveOverflowCapacity, hasLeases: true, durable);
        }

        _buffers = buffers;
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
        return !lane.HasParked && Store(lane, envelope) ? EnqueueStatus.Accepted : lane.ParkUnbounded(envelope);
    }

    /// <summary>
    /// A message the full queue dropped in a drop mode (called by the storage, outside its lock): it ends in the
    /// dead-letter store as overflow, or, if that store fails, in the stop report; the settlement observes either way.
    /// </summary>
    private void OnDropped(Envelope envelope)
    {
        var settling = Settlement.DroppedAsync(envelope);
        if (!settling.IsCompletedSuccessfully)
        {
            // Still counted as settling (the store call that dropped it is, until it returns): a collection waits for it.
            Interlocked.Increment(ref _dropsSettling);
            _ = DropSettledAfterAsync(settling);
        }
    }

    /// <summary>
    /// Stores a message. A store into a queue that drops may drop another message, which is settled on this thread (and
    /// perhaps after, if the dead-letter store is slow): both are counted, so a collection of the queue waits for the
    /// dropped message to end before it takes the report.
    /// </summary>
    private bool Store(QueueLane lane, in Envelope envelope)
    {
        if (!_drops)
        {
            return lane.TryStore(envelope);
        }

        Interlocked.Increment(ref _dropsSettling);
        try
        {
            return lane.TryStore(envelope);
        }
        finally
        {
            Interlocked.Decrement(ref _dropsSettling);
        }
    }

    private async Task DropSettledAfterAsync(ValueTask settling)
    {
        try
        {
            await settling.ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _dropsSettling);
        }
    }

    /// <summary>
    /// Completes when no dropped message is still being settled. Only a publish racing the queue's close, or a slow
    /// dead-letter store, leaves one, and only in a queue that drops, so a short poll of the system clock does.
    /// </summary>
    private async Task WhenDropsSettledAsync()
    {
        var started = Stopwatch.GetTimestamp();
        while (Volatile.Read(ref _dropsSettling) != 0 && Stopwatch.GetElapsedTime(started) < SettleLimit)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(1), TimeProvider.System).ConfigureAwait(false);
        }
    }
}
