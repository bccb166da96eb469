namespace Bus.Testing;

/// <summary>What happened to a message, as the harness records it.</summary>
public enum BusEventKind
{
    /// <summary>Published to an exchange, and accepted by every queue it was routed to.</summary>
    Published,

    /// <summary>Sent to one queue, and accepted by it.</summary>
    Sent,

    /// <summary>Consumed successfully.</summary>
    Consumed,

    /// <summary>A delivery failed: the consumer threw, rejected the message, or ran out of time.</summary>
    Faulted,

    /// <summary>The retry policy will deliver the message again.</summary>
    Retried,

    /// <summary>Ended in the dead-letter store.</summary>
    DeadLettered,

    /// <summary>
    /// Published to an exchange that routed it to no queue (no consumer is added for its type, or no binding matches):
    /// dropped, or refused when mandatory or a request. <see cref="BusTestHarness.Published{TMessage}"/> includes these.
    /// </summary>
    NoRoute,
}
