using System.Diagnostics;
using System.Text.Json.Serialization;

namespace Bus;

/// <summary>
/// A message as it travels through the bus: the message itself and everything the bus knows about it.
/// </summary>
/// <remarks>
/// An envelope is a value type so that moving a message through exchanges and queues allocates nothing.
/// Transports construct envelopes when they receive messages from elsewhere.
/// </remarks>
[DebuggerDisplay("{MessageType.Name,nq} {MessageId} key={RoutingKey} delivery={DeliveryCount}")]
public readonly struct Envelope
{
    /// <summary>Creates an envelope.</summary>
    /// <param name="message">The message.</param>
    /// <param name="messageType">The message type consumers are selected by.</param>
    /// <param name="messageId">The unique, time-ordered message id.</param>
    /// <param name="correlationId">The id that ties this message to the conversation it belongs to.</param>
    /// <param name="timestamp">When the message was sent.</param>
    /// <param name="exchange">The exchange the message was published to; empty when it was sent to a queue directly.</param>
    /// <param name="routingKey">The routing key; empty when none was given.</param>
    /// <param name="headers">The headers, or <see langword="null"/> when there are none.</param>
    /// <param name="deliveryCount">How many times the message has been delivered, this delivery included.</param>
    /// <param name="timeToLive">How long after <paramref name="timestamp"/> the message expires; null when it does not.</param>
    /// <param name="priority">The message's priority in queues that order by priority (see <see cref="QueueOptions.MaxPriority"/>).</param>
    public Envelope(
        object message,
        Type messageType,
        Guid messageId,
        Guid correlationId,
        DateTimeOffset timestamp,
        string exchange,
        string routingKey,
        IReadOnlyDictionary<string, object?>? headers,
        int deliveryCount,
        TimeSpan? timeToLive = null,
        byte priority = 0)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(messageType);
        ArgumentNullException.ThrowIfNull(exchange);
        ArgumentNullException.ThrowIfNull(routingKey);
        ArgumentOutOfRangeException.ThrowIfLessThan(deliveryCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(deliveryCount, MaxDeliveryCount);
        if (timeToLive is { } ttl)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(ttl, TimeSpan.Zero, nameof(timeToLive));
            ArgumentOutOfRangeException.ThrowIfGreaterThan(ttl, MaxTimeToLive, nameof(timeToLive));
        }

        Message = message;
        MessageType = messageType;
        MessageId = messageId;
        CorrelationId = correlationId;
        _timestampTicks = timestamp.UtcTicks;
        Exchange = exchange;
        RoutingKey = routingKey;
        _headers = headers;
        _deliveryCountAndPriority = deliveryCount | (priority << PriorityShift);
        _timeToLiveTicks = timeToLive?.Ticks ?? 0;
    }

    private Envelope(in Envelope envelope, int deliveryCount, IReadOnlyDictionary<string, object?>? headers)
    {
        this = envelope;
        _deliveryCountAndPriority = Math.Min(deliveryCount, MaxDeliveryCount) | (envelope.Priority << PriorityShift);
        _headers = headers;
    }

    /// <summary>The highest <see cref="DeliveryCount"/>, 2^24 - 1; a message delivered more often stays at it.</summary>
    public const int MaxDeliveryCount = (1 << PriorityShift) - 1;

    private const int PriorityShift = 24;

    /// <summary>The longest time to live a message can have: 2^32 - 1 milliseconds (about 49.7 days), as in RabbitMQ.</summary>
    public static readonly TimeSpan MaxTimeToLive = TimeSpan.FromMilliseconds(uint.MaxValue);

    private readonly IReadOnlyDictionary<string, object?>? _headers;

    // UTC ticks rather than a DateTimeOffset: an envelope is copied through channels by value, and 8 bytes fewer per
    // message is measurable there.
    private readonly long _timestampTicks;

    // Ticks, 0 for none: exact, so a message is expired from the very tick its time to live runs out.
    private readonly long _timeToLiveTicks;

    // The delivery count in the low 24 bits and the priority in the high 8: a separate byte would grow every envelope
    // by 8 bytes of padding, and 16 million deliveries of one message is more than any retry policy reaches.
    private readonly int _deliveryCountAndPriority;

    /// <summary>Gets the message.</summary>
    public object Message { get; }

    /// <summary>Gets the message type consumers are selected by.</summary>
    /// <remarks>In JSON, its name (see <see cref="TypeNameJsonConverter"/>).</remarks>
    [JsonConverter(typeof(TypeNameJsonConverter))]
    public Type MessageType { get; }

    /// <summary>Gets the unique, time-ordered message id.</summary>
    public Guid MessageId { get; }

    /// <summary>Gets the id that ties this message to the conversation it belongs to.</summary>
    public Guid CorrelationId { get; }

    /// <summary>Gets the time the message was sent, from the bus's <see cref="TimeProvider"/>.</summary>
    public DateTimeOffset Timestamp => new(_timestampTicks, TimeSpan.Zero);

    /// <summary>Gets the exchange the message was published to; empty when it was sent to a queue directly.</summary>
    public string Exchange { get; }

    /// <summary>Gets the routing key; empty when none was given.</summary>
    public string RoutingKey { get; }

    /// <summary>Gets the headers; empty when none were given.</summary>
    public IReadOnlyDictionary<string, object?> Headers => _headers ?? MessageHeaders.Empty;

    /// <summary>Gets how many times the message has been delivered, this delivery included (1 on the first).</summary>
    public int DeliveryCount => _deliveryCountAndPriority & MaxDeliveryCount;

    /// <summary>Gets the message's priority (0 to 255), used by queues that order by priority.</summary>
    public byte Priority => (byte)(_deliveryCountAndPriority >>> PriorityShift);

    /// <summary>Gets how long after <see cref="Timestamp"/> the message expires, or null when it does not.</summary>
    public TimeSpan? TimeToLive => _timeToLiveTicks == 0 ? null : TimeSpan.FromTicks(_timeToLiveTicks);

    internal long TimestampTicks => _timestampTicks;

    internal long TimeToLiveTicks => _timeToLiveTicks;

    /// <summary>The same message for another delivery.</summary>
    internal Envelope WithDeliveryCount(int deliveryCount) => new(this, deliveryCount, _headers);

    /// <summary>The same message with other headers.</summary>
    internal Envelope WithHeaders(IReadOnlyDictionary<string, object?>? headers) => new(this, DeliveryCount, headers);
}
