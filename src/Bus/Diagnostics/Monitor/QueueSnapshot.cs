using System.Diagnostics;

namespace Bus;

/// <summary>
/// One queue as <see cref="IBusMonitor"/> read it. The counters (<see cref="Statistics"/>, <see cref="InFlight"/>,
/// <see cref="DeadLettersByReason"/>) come from one copy of the queue's ledger, taken when two reads in a row agree;
/// under a load that never pauses, from a read that still never shows more messages ended than accepted.
/// </summary>
[DebuggerDisplay("{Name,nq}: depth {Depth}/{Capacity}, busy {ConsumersBusy}/{Consumers}")]
public sealed class QueueSnapshot
{
    internal QueueSnapshot(QueueStatistics statistics) => Statistics = statistics;

    /// <summary>Gets the queue name.</summary>
    public string Name => Statistics.Name;

    /// <summary>Gets the messages waiting to be taken (see <see cref="QueueStatistics.Depth"/>).</summary>
    public int Depth => Statistics.Depth;

    /// <summary>Gets the queue's capacity.</summary>
    public int Capacity => Statistics.Capacity;

    /// <summary>Gets what the queue does when it is full.</summary>
    public QueueFullMode FullMode { get; internal init; }

    /// <summary>Gets the messages taken by consumers and not yet ended.</summary>
    public long InFlight => Statistics.InFlight;

    /// <summary>Gets the messages waiting for a delayed retry.</summary>
    public long WaitingForRetry => Statistics.WaitingForRetry;

    /// <summary>Gets the number of competing consumers (<see cref="QueueOptions.Concurrency"/>, or one per partition).</summary>
    public int Consumers { get; internal init; }

    /// <summary>Gets the consumers busy: consuming, holding prefetched messages, or settling.</summary>
    public int ConsumersBusy { get; internal init; }

    /// <summary>Gets the consumers free to take a message.</summary>
    public int ConsumersIdle => Math.Max(0, Consumers - ConsumersBusy);

    /// <summary>Gets how long the message that has waited longest has been in the queue (since it was sent), or null when the queue is empty.</summary>
    public TimeSpan? OldestMessageAge { get; internal init; }

    /// <summary>Gets the rates of messages in and out over the last minute.</summary>
    public MessageRates Rates { get; internal init; }

    /// <summary>Gets the queue's dead letters by reason.</summary>
    public IReadOnlyDictionary<DeadLetterReason, long> DeadLettersByReason => Statistics.DeadLetteredByReason;

    /// <summary>
    /// Gets how many of the queue's read loops ended on a failure of the bus itself (log event 33). Above zero, the queue
    /// may have stopped taking messages: a health check reports the bus unhealthy.
    /// </summary>
    public int ReaderFaults { get; internal init; }

    /// <summary>Gets every counter of the queue, as <see cref="IMessageBus.GetStatistics"/> gives them.</summary>
    public QueueStatistics Statistics { get; }
}
