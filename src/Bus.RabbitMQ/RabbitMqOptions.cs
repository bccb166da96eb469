namespace Bus.RabbitMQ;

/// <summary>Options of the RabbitMQ transport, set with <c>UseRabbitMQ</c>.</summary>
public sealed class RabbitMqOptions
{
    /// <summary>The default <see cref="Uri"/>: a broker on this machine, as the guest user.</summary>
    public const string DefaultUri = "amqp://guest:guest@localhost:5672/";

    /// <summary>The default <see cref="PublishTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultPublishTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="RecoveryInterval"/>: 5 seconds, as RabbitMQ.Client's.</summary>
    public static readonly TimeSpan DefaultRecoveryInterval = TimeSpan.FromSeconds(5);

    /// <summary>The default <see cref="PublishChannels"/>: 2.</summary>
    public const int DefaultPublishChannels = 2;

    /// <summary>Gets or sets the broker's address, with user, password and virtual host (<c>amqp://user:password@host:5672/vhost</c>, or <c>amqps://</c>).</summary>
    /// <value>The default is <see cref="DefaultUri"/>.</value>
    public Uri Uri { get; set; } = new(DefaultUri);

    /// <summary>Gets or sets the name the connections show in the broker's management UI.</summary>
    /// <value>The default (null) is the entry assembly's name.</value>
    public string? ConnectionName { get; set; }

    /// <summary>
    /// Gets or sets how long a publish waits for the broker while the connection is down (it recovers by itself)
    /// before it throws <see cref="TransportUnavailableException"/>; the start waits as long for the first connection.
    /// A broker that blocks publishers (its memory or disk alarm) makes publishes wait until it unblocks or the caller's
    /// token ends the wait.
    /// </summary>
    /// <value>More than zero. The default is <see cref="DefaultPublishTimeout"/> (30 seconds).</value>
    public TimeSpan PublishTimeout { get; set; } = DefaultPublishTimeout;

    /// <summary>Gets or sets how long the connection waits between attempts to recover after it was lost.</summary>
    /// <value>More than zero. The default is <see cref="DefaultRecoveryInterval"/> (5 seconds).</value>
    public TimeSpan RecoveryInterval { get; set; } = DefaultRecoveryInterval;

    /// <summary>Gets or sets the kind of queue the bus declares.</summary>
    /// <value>
    /// The default is <see cref="RabbitMqQueueType.Classic"/>, which orders by priority; <see cref="RabbitMqQueueType.Quorum"/>
    /// replicates and counts deliveries, and refuses <see cref="QueueOptions.MaxPriority"/> at the start.
    /// </value>
    public RabbitMqQueueType QueueType { get; set; } = RabbitMqQueueType.Classic;

    /// <summary>Gets or sets how many channels publish at once, each with its own confirms.</summary>
    /// <value>From 1 to 64. The default is <see cref="DefaultPublishChannels"/> (2).</value>
    public int PublishChannels { get; set; } = DefaultPublishChannels;

    /// <summary>Lists every problem with these options.</summary>
    internal List<string> Validate()
    {
        var errors = new List<string>();
        if (Uri is null || (Uri.Scheme != "amqp" && Uri.Scheme != "amqps"))
        {
            errors.Add($"RabbitMqOptions.Uri is '{Uri}'; it must be an amqp:// or amqps:// address.");
        }

        if (PublishTimeout <= TimeSpan.Zero)
        {
            errors.Add($"RabbitMqOptions.PublishTimeout is {PublishTimeout}; it must be more than zero.");
        }

        if (RecoveryInterval <= TimeSpan.Zero)
        {
            errors.Add($"RabbitMqOptions.RecoveryInterval is {RecoveryInterval}; it must be more than zero.");
        }

        if (PublishChannels is < 1 or > 64)
        {
            errors.Add($"RabbitMqOptions.PublishChannels is {PublishChannels}; it must be from 1 to 64.");
        }

        return errors;
    }
}
