namespace Bus;

/// <summary>
/// The options a <see cref="RetryPolicy"/> is built from with <see cref="RetryPolicy.Create"/>. The policy copies them
/// and checks them once; changing the options afterwards does not change the policy.
/// </summary>
public sealed class RetryPolicyOptions
{
    /// <summary>The default <see cref="MaxRetries"/>.</summary>
    public const int DefaultMaxRetries = 3;

    /// <summary>The default <see cref="Factor"/>.</summary>
    public const double DefaultFactor = 2;

    /// <summary>The default <see cref="Delay"/>: one second.</summary>
    public static readonly TimeSpan DefaultDelay = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets how many times a message is retried after its first delivery fails.</summary>
    /// <value>Zero or more. The default is <see cref="DefaultMaxRetries"/> (3); 0 never retries.</value>
    public int MaxRetries { get; set; } = DefaultMaxRetries;

    /// <summary>Gets or sets how the delay grows from one retry to the next.</summary>
    /// <value>The default is <see cref="RetryBackoff.Constant"/>.</value>
    public RetryBackoff Backoff { get; set; } = RetryBackoff.Constant;

    /// <summary>Gets or sets the delay before the first retry, from which the others grow; zero retries at once, on the same consumer.</summary>
    /// <value>Zero or more. The default is <see cref="DefaultDelay"/> (1 second).</value>
    public TimeSpan Delay { get; set; } = DefaultDelay;

    /// <summary>Gets or sets the growth per retry of an <see cref="RetryBackoff.Exponential"/> backoff.</summary>
    /// <value>At least 1. The default is <see cref="DefaultFactor"/> (2).</value>
    public double Factor { get; set; } = DefaultFactor;

    /// <summary>Gets or sets the longest delay, however the backoff grows.</summary>
    /// <value>The default, <see langword="null"/>, sets no cap.</value>
    public TimeSpan? MaxDelay { get; set; }

    /// <summary>
    /// Gets or sets how far each delay is moved at random, as a fraction of itself, so that messages that failed at the
    /// same moment do not all retry at the same moment: 0.2 moves a 10-second delay anywhere from 8 to 12 seconds.
    /// </summary>
    /// <value>From 0 (none, the default) to 1 (up to ±100%).</value>
    public double Jitter { get; set; }

    /// <summary>
    /// Gets or sets where jitter is drawn from: a function returning a number in [0, 1), as <see cref="Random.NextDouble"/>
    /// does. Tests set one that returns fixed numbers, so the delays they assert are exact.
    /// </summary>
    /// <value>The default, <see langword="null"/>, draws from <see cref="Random.Shared"/>.</value>
    public Func<double>? Randomizer { get; set; }

    /// <summary>
    /// Gets or sets which failures are retried; the others are dead-lettered at once with
    /// <see cref="DeadLetterReason.NotRetryable"/>.
    /// </summary>
    /// <value>The default, <see langword="null"/>, retries every exception.</value>
    public Func<Exception, bool>? ShouldRetry { get; set; }
}
