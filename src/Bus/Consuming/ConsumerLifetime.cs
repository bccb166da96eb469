namespace Bus;

/// <summary>How consumer instances are created.</summary>
public enum ConsumerLifetime
{
    /// <summary>A new dependency-injection scope, and a consumer resolved from it, for every message.</summary>
    Scoped,

    /// <summary>One instance for all messages, called concurrently when the queue's concurrency is above 1.</summary>
    Singleton,
}
