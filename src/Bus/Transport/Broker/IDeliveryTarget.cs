namespace Bus;

/// <summary>Where a broker's consumer hands its deliveries: the bus's queue.</summary>
internal interface IDeliveryTarget
{
    /// <summary>Hands over a delivery; the queue counts it in and settles its lease once the bus decided its outcome.</summary>
    /// <param name="envelope">The decoded message.</param>
    /// <param name="lease">The consumer's handle of the delivery.</param>
    /// <returns><see langword="false"/> when the queue is closed: the consumer requeues the delivery itself.</returns>
    bool Deliver(in Envelope envelope, long lease);

    /// <summary>
    /// A delivery that could not be read (an unknown type name, a malformed or too large body): the queue counts it in
    /// and dead-letters it with its reason; the consumer acknowledges it once this completes.
    /// </summary>
    /// <param name="raw">The message as it arrived, its body as a byte array.</param>
    /// <param name="reason">Why it could not be read.</param>
    /// <param name="description">What was wrong.</param>
    /// <returns>A task that completes when the message was dead-lettered (or set aside for the stop report).</returns>
    ValueTask RefuseAsync(Envelope raw, DeadLetterReason reason, string description);
}
