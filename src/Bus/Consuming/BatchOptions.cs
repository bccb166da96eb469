namespace Bus;

/// <summary>How a batch consumer's batches are formed.</summary>
public sealed class BatchOptions
{
    /// <summary>The default <see cref="MaxSize"/>.</summary>
    public const int DefaultMaxSize = 100;

    /// <summary>The default <see cref="Window"/>: one second, as MassTransit's batch time limit.</summary>
    public static readonly TimeSpan DefaultWindow = TimeSpan.FromSeconds(1);

    /// <summary>Gets or sets the most messages in one batch; a batch that reaches it is delivered at once.</summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxSize"/> (100).</value>
    public int MaxSize { get; set; } = DefaultMaxSize;

    /// <summary>
    /// Gets or sets how long a batch waits for more messages, counted from the first message's
    /// <see cref="Envelope.Timestamp"/>: when it has passed, the batch is delivered with what it holds. A message that
    /// waited in the queue longer than this (a backlog, or a retry) is delivered with whatever is already there.
    /// </summary>
    /// <value>Zero or more; zero delivers what is in the queue at once. The default is <see cref="DefaultWindow"/> (1 second).</value>
    public TimeSpan Window { get; set; } = DefaultWindow;

    internal BatchOptions Clone() => (BatchOptions)MemberwiseClone();

    internal void Validate(Type consumerType, List<string> errors)
    {
        if (MaxSize < 1)
        {
            errors.Add($"Batch consumer {consumerType}: MaxSize is {MaxSize}; it must be at least 1.");
        }

        if (Window < TimeSpan.Zero)
        {
            errors.Add($"Batch consumer {consumerType}: Window is {Window}; it must not be negative.");
        }
    }
}
