namespace Bus;

/// <summary>What a transport's queues do natively. The bus emulates what it can of the rest and refuses the others at start.</summary>
[Flags]
internal enum TransportFeatures
{
    /// <summary>Nothing beyond storing and handing out messages.</summary>
    None = 0,

    /// <summary>
    /// Queues hold at most <see cref="QueueOptions.Capacity"/> messages and apply <see cref="QueueOptions.FullMode"/>
    /// (a broker's <c>x-max-length</c> and <c>x-overflow</c>). The bus cannot emulate a bound on storage it does not own.
    /// </summary>
    BoundedQueues = 1,

    /// <summary>Queues hand out higher priorities first (<see cref="QueueOptions.MaxPriority"/>, a broker's <c>x-max-priority</c>).</summary>
    Priority = 2,

    /// <summary>Queues expire messages themselves; the bus still checks time to live when a message is delivered.</summary>
    TimeToLive = 4,

    /// <summary>Deliveries are leased and must be settled with <see cref="ITransportQueue.SettleAsync"/>.</summary>
    Leases = 8,
}
