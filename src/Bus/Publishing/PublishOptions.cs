namespace Bus;

/// <summary>Options of one publish. An instance may be reused for many publishes.</summary>
public sealed class PublishOptions
{
    /// <summary>Gets or sets the exchange to publish to.</summary>
    /// <value>The default, <see langword="null"/>, is the message type's exchange.</value>
    public string? Exchange { get; set; }

    /// <summary>Gets or sets the routing key (at most 255 characters).</summary>
    /// <value>The default, <see langword="null"/>, is the empty key.</value>
    public string? RoutingKey { get; set; }

    /// <summary>
    /// Gets or sets headers: string names and primitive values (null, string, bool, number, Guid, DateTime,
    /// DateTimeOffset, TimeSpan). They are copied at publish.
    /// </summary>
    public IReadOnlyDictionary<string, object?>? Headers { get; set; }

    /// <summary>
    /// Gets or sets a value indicating whether the publish fails with an <see cref="UnroutableMessageException"/> when no
    /// queue is bound for the message (RabbitMQ's mandatory flag). Otherwise an unroutable message is counted and logged.
    /// </summary>
    public bool Mandatory { get; set; }

    /// <summary>Gets or sets the correlation id.</summary>
    /// <value>
    /// The default, <see langword="null"/>, carries over the correlation id of the message being consumed when publishing
    /// from a consumer, and is the new message's own id otherwise.
    /// </value>
    public Guid? CorrelationId { get; set; }

    /// <summary>
    /// Gets or sets how long the message may wait to be delivered: one older than this when its turn comes is not
    /// delivered but dead-lettered with <see cref="DeadLetterReason.Expired"/>. A queue's own
    /// <see cref="QueueOptions.TimeToLive"/> applies too; the shorter wins.
    /// </summary>
    /// <value>The default, <see langword="null"/>, lets the message wait indefinitely. At most <see cref="Envelope.MaxTimeToLive"/>.</value>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>
    /// Gets or sets the message's priority, as RabbitMQ's message priority: queues with a
    /// <see cref="QueueOptions.MaxPriority"/> deliver waiting messages with a higher priority first (a priority above
    /// the queue's maximum counts as the maximum); other queues ignore it.
    /// </summary>
    /// <value>0 to 255. The default is 0, the lowest.</value>
    public byte Priority { get; set; }

    /// <summary>Gets or sets the message id.</summary>
    /// <value>The default, <see langword="null"/>, creates a new unique, time-ordered id.</value>
    public Guid? MessageId { get; set; }
}
