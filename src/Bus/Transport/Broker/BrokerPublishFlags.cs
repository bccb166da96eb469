namespace Bus;

/// <summary>How a message is published to a broker.</summary>
[Flags]
internal enum BrokerPublishFlags
{
    /// <summary>A plain publish: confirmed even when no queue is bound for it.</summary>
    None = 0,

    /// <summary>Refused when no queue is bound for it (<see cref="PublishOptions.Mandatory"/>).</summary>
    Mandatory = 1,

    /// <summary>A request: the broker's reply address goes with it, and its response comes back there.</summary>
    Request = 2,
}
