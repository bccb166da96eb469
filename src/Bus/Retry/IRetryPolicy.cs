namespace Bus;

/// <summary>
/// Decides what happens after a consumer fails: try again (now or after a delay), or give up and dead-letter the
/// message. The built-in policies are on <see cref="RetryPolicy"/>; implement this for anything else.
/// </summary>
/// <remarks>A delayed retry leaves the worker and re-enters the queue when due, so other messages flow meanwhile.</remarks>
public interface IRetryPolicy
{
    /// <summary>Decides about one failed delivery. Called concurrently; must not block.</summary>
    /// <param name="context">The failure.</param>
    /// <returns>Retry now, retry after a delay, or give up with a reason.</returns>
    RetryDecision Decide(in RetryContext context);
}
