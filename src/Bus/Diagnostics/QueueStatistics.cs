using System.Diagnostics;

namespace Bus;

/// <summary>Counters of one queue, read at one moment.</summary>
[DebuggerDisplay("{Name,nq}: depth {Depth}/{Capacity}, pending {Pending}")]
public sealed class QueueStatistics
{
    internal QueueStatistics(string name, int depth, int capacity)
    {
        Name = name;
        Depth = depth;
        Capacity = capacity;
    }

    /// <summary>Gets the queue name.</summary>
    public string Name { get; }

    /// <summary>
    /// Gets the number of messages waiting to be taken by a consumer. It can exceed <see cref="Capacity"/>: messages
    /// published by consumers into their own full queue wait beside it (see <see cref="QueueOptions.OverflowCapacity"/>).
    /// </summary>
    public int Depth { get; }

    /// <summary>Gets the queue's capacity (<see cref="QueueOptions.Capacity"/>).</summary>
    public int Capacity { get; }

    /// <summary>
    /// Gets the number of accepted messages not yet ended: waiting in the queue, taken by a consumer (prefetched or
    /// being consumed), or waiting for a retry. Publishers still waiting for room are not counted: their messages are
    /// not accepted yet.
    /// </summary>
    public long Pending { get; internal set; }

    /// <summary>Gets the number of messages taken by consumers and not yet ended: being consumed, prefetched, or being settled.</summary>
    public long InFlight { get; internal set; }

    /// <summary>Gets the number of messages waiting for a delayed retry.</summary>
    public long WaitingForRetry { get; internal set; }

    /// <summary>Gets the number of messages held by batch consumers until their batch window passes.</summary>
    public long WaitingInBatches { get; internal set; }

    /// <summary>Gets the number of messages the queue has accepted.</summary>
    public long Enqueued { get; internal set; }

    /// <summary>Gets the number of messages consumed successfully (acknowledged).</summary>
    public long Consumed { get; internal set; }

    /// <summary>Gets the number of failed deliveries: the consumer (or a filter) threw, rejected the message, or timed out.</summary>
    public long Faulted { get; internal set; }

    /// <summary>Gets the number of retries decided (immediate and delayed).</summary>
    public long Retried { get; internal set; }

    /// <summary>Gets the number of messages that ended in the dead-letter store, dropped and expired ones included.</summary>
    public long DeadLettered { get; internal set; }

    /// <summary>
    /// Gets the messages this queue ended in the dead-letter store, by reason (reasons with none are left out). Copies of
    /// reported messages (<see cref="DeadLetterReason.BusStopped"/>, <see cref="DeadLetterReason.QueueDeleted"/>) are
    /// counted in <see cref="DeadLettered"/> only.
    /// </summary>
    public IReadOnlyDictionary<DeadLetterReason, long> DeadLetteredByReason { get; internal set; } = new Dictionary<DeadLetterReason, long>();

    /// <summary>Gets the number of messages that expired before delivery.</summary>
    public long Expired { get; internal set; }

    /// <summary>Gets the number of messages skipped as duplicates of messages consumed before.</summary>
    public long Duplicates { get; internal set; }

    /// <summary>Gets the number of messages dropped because the queue was full.</summary>
    public long Dropped { get; internal set; }

    /// <summary>
    /// Gets the number of messages set aside for a drain report: left when the bus stopped or the queue was deleted, or
    /// kept for the next stop's report because the dead-letter store failed when they had to be dead-lettered.
    /// </summary>
    public long Unprocessed { get; internal set; }

    /// <summary>
    /// Gets how many deliveries were given back to a broker that keeps them: requeued at a stop, or sent to wait in the
    /// broker for a delayed retry. The broker delivers them again, here or to another instance; always 0 in memory.
    /// </summary>
    public long Returned { get; internal set; }
}
