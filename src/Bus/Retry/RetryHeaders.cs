namespace Bus;

/// <summary>Headers the bus adds to a message it delivers again.</summary>
public static class RetryHeaders
{
    /// <summary>When the message's first delivery failed (a <see cref="DateTimeOffset"/>), set on its retries.</summary>
    public const string FirstFailedAt = "x-first-failed-at";
}
