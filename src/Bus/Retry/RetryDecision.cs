namespace Bus;

/// <summary>What a retry policy decided: retry (now or after a delay) or give up with a reason.</summary>
public readonly struct RetryDecision
{
    private RetryDecision(bool retry, TimeSpan delay, DeadLetterReason reason)
    {
        ShouldRetry = retry;
        Delay = delay;
        Reason = reason;
    }

    /// <summary>Gets a decision to retry at once, on the same worker.</summary>
    public static RetryDecision Immediately => new(true, TimeSpan.Zero, default);

    /// <summary>Gets a value indicating whether the message is delivered again.</summary>
    public bool ShouldRetry { get; }

    /// <summary>Gets how long to wait before the next delivery.</summary>
    public TimeSpan Delay { get; }

    /// <summary>Gets the dead-letter reason when the policy gives up.</summary>
    public DeadLetterReason Reason { get; }

    /// <summary>Retries after a delay; the message waits outside the worker and re-enters its queue when due.</summary>
    /// <param name="delay">The delay; zero retries at once.</param>
    /// <returns>The decision.</returns>
    public static RetryDecision After(TimeSpan delay)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(delay, TimeSpan.Zero);
        return new RetryDecision(true, delay, default);
    }

    /// <summary>Gives up: the message is dead-lettered with the reason.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The decision.</returns>
    public static RetryDecision GiveUp(DeadLetterReason reason = DeadLetterReason.MaxRetriesExceeded) => new(false, TimeSpan.Zero, reason);
}
