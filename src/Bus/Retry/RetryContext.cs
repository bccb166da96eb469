namespace Bus;

/// <summary>One failed delivery, as a retry policy sees it.</summary>
public readonly struct RetryContext
{
    /// <summary>Creates the context.</summary>
    /// <param name="exception">What the consumer threw.</param>
    /// <param name="envelope">The message as delivered.</param>
    /// <param name="queue">The queue it came from.</param>
    public RetryContext(Exception exception, Envelope envelope, string queue)
    {
        Exception = exception;
        Envelope = envelope;
        Queue = queue;
    }

    /// <summary>Gets what the consumer threw.</summary>
    public Exception Exception { get; }

    /// <summary>Gets the message as delivered.</summary>
    public Envelope Envelope { get; }

    /// <summary>Gets the queue the message came from.</summary>
    public string Queue { get; }

    /// <summary>Gets which attempt failed: 1 for the first delivery, 2 for the first retry, and so on.</summary>
    public int Attempt => Envelope.DeliveryCount;
}
