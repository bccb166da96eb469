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

    /// <summary>Every full mode: bounded queues as the in-memory transport has them.</summary>
    BoundedQueues = FullWait | FullReject | FullDropOldest | FullDropNewest,
}
