namespace Bus;

/// <summary>How an accepted message ended, as a <see cref="QueueLedger"/> counts it. Every accepted message ends exactly once.</summary>
internal enum Outcome
{
    /// <summary>A consumer acknowledged it.</summary>
    Consumed,

    /// <summary>Skipped as a duplicate of a message consumed before.</summary>
    Duplicate,

    /// <summary>Stored in the dead-letter store with a reason (dropped and expired messages included).</summary>
    DeadLettered,

    /// <summary>
    /// Listed in a drain report: left when the bus stopped or its queue was deleted, or set aside for that report after
    /// the bus itself failed to end it (a dead-letter store that threw).
    /// </summary>
    Reported,

    /// <summary>
    /// Handed back to a transport that keeps messages outside the process (<see cref="TransportFeatures.Durable"/>):
    /// requeued at a stop, or sent to the broker's wait queue for a delayed retry. The broker delivers it again, and the
    /// queue counts it in again when it does.
    /// </summary>
    Returned,

    /// <summary>A scheduled publish that came due and was routed into its queues, which count it from then on.</summary>
    Forwarded,

    /// <summary>A scheduled publish cancelled before it came due.</summary>
    Cancelled,

    /// <summary>A scheduled publish that came due with no queue bound for it (counted and logged, as a publish would be).</summary>
    Unroutable,
}
