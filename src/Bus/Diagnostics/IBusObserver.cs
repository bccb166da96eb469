namespace Bus;

/// <summary>
/// Sees what happens to messages as it happens: published, consumed, failed, retried, dead-lettered. For test harnesses,
/// audit trails and custom metrics. Register any number with <c>services.AddSingleton&lt;IBusObserver, MyObserver&gt;()</c>.
/// </summary>
/// <remarks>
/// Observers are called synchronously on the thread that did the work (a publisher, or a queue's worker), so they must
/// be fast and thread-safe, and must not block. An observer that throws is logged (event 31) and the bus carries on.
/// Every method does nothing by default; implement those you need.
/// </remarks>
public interface IBusObserver
{
    /// <summary>
    /// A message was published or sent, and every queue it was routed to accepted it. A consumer on another thread may
    /// already be working on it, so this can come after that consumer's events for the message.
    /// </summary>
    /// <param name="envelope">The message; <see cref="Envelope.Exchange"/> is empty for a send to a queue.</param>
    void OnPublished(in Envelope envelope)
    {
    }

    /// <summary>
    /// A message was published to an exchange that routed it to no queue: nothing is bound for its type (no consumer
    /// is added for it), or no binding matches its routing key or headers. It was dropped, or, for a mandatory publish
    /// or a request, refused with an <see cref="UnroutableMessageException"/>. A scheduled message that finds no queue
    /// when it comes due is reported here too.
    /// </summary>
    /// <param name="envelope">The message as it would have been delivered; <see cref="Envelope.Exchange"/> names the exchange.</param>
    void OnUnroutable(in Envelope envelope)
    {
    }

    /// <summary>A consumer consumed a message successfully.</summary>
    /// <param name="envelope">The message.</param>
    /// <param name="queue">The queue it came from.</param>
    /// <param name="consumerType">The consumer type.</param>
    void OnConsumed(in Envelope envelope, string queue, Type consumerType)
    {
    }

    /// <summary>A delivery failed: the consumer threw, rejected the message, or ran out of time.</summary>
    /// <param name="envelope">The message, with the delivery count of the failed delivery.</param>
    /// <param name="queue">The queue it came from.</param>
    /// <param name="exception">The failure.</param>
    void OnFaulted(in Envelope envelope, string queue, Exception exception)
    {
    }

    /// <summary>The retry policy will deliver a failed message again.</summary>
    /// <param name="envelope">The next attempt, with its delivery count.</param>
    /// <param name="queue">The queue it will be delivered from.</param>
    /// <param name="delay">How long until then; zero for at once.</param>
    void OnRetrying(in Envelope envelope, string queue, TimeSpan delay)
    {
    }

    /// <summary>A message ended in the dead-letter store.</summary>
    /// <param name="deadLetter">The dead letter, with its reason.</param>
    void OnDeadLettered(DeadLetter deadLetter)
    {
    }
}
