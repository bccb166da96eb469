namespace Bus;

/// <summary>What a transport's queues do natively. The bus emulates what it can of the rest and refuses the others at start.</summary>
[Flags]
internal enum TransportFeatures
{
    /// <summary>Nothing beyond storing and handing out messages.</summary>
    None = 0,

    /// <summary>
    /// A full queue makes its publisher wait for room (<see cref="QueueFullMode.Wait"/>). With any of the four full
    /// modes, queues hold at most <see cref="QueueOptions.Capacity"/> messages; the bus cannot emulate a bound or a full
    /// mode on storage it does not own, so a queue whose mode the transport lacks is refused when it is declared. A
    /// broker has reject-publish and drop-head (<c>x-overflow</c>), not a waiting publisher or dropping the newest.
    /// </summary>
    FullWait = 1,

    /// <summary>Queues hand out higher priorities first (<see cref="QueueOptions.MaxPriority"/>, a broker's <c>x-max-priority</c>).</summary>
    Priority = 2,

    /// <summary>Queues expire messages themselves; the bus still checks time to live when a message is delivered.</summary>
    TimeToLive = 4,

    /// <summary>Deliveries are leased and must be settled with <see cref="ITransportQueue.SettleAsync"/>.</summary>
    Leases = 8,

    /// <summary>A full queue refuses the publish (<see cref="QueueFullMode.Reject"/>; a broker's <c>reject-publish</c>).</summary>
    FullReject = 16,

    /// <summary>A full queue drops its oldest message (<see cref="QueueFullMode.DropOldest"/>; a broker's <c>drop-head</c>).</summary>
    FullDropOldest = 32,

    /// <summary>A full queue drops the message being published (<see cref="QueueFullMode.DropNewest"/>).</summary>
    FullDropNewest = 64,

    /// <summary>
    /// Messages live outside the process (a broker): a delivery requeued at a stop stays with the transport and is
    /// delivered again, so it is not reported as unprocessed, nor dead-lettered as left over.
    /// </summary>
    Durable = 128,

    /// <summary>
    /// The transport routes (a broker's exchanges and bindings): the bus declares its topology there and publishes to
    /// it, and the transport's consumers hand deliveries to the queues (<see cref="IBrokerTransport"/>).
    /// </summary>
    OwnsRouting = 256,

    /// <summary>Delayed retries wait in the transport (a broker's wait queues), so they survive a restart of the process.</summary>
    DurableDelays = 512,

    /// <summary>Every full mode: bounded queues as the in-memory transport has them.</summary>
    BoundedQueues = FullWait | FullReject | FullDropOldest | FullDropNewest,
}
