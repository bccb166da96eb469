using System.Globalization;
using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bus.RabbitMQ;

/// <summary>
/// How a bus message maps to AMQP: ids, type name, content type, priority and time to live in the basic properties;
/// the exact timestamp, the delivery count and the original exchange and routing key in <c>bus-</c> headers (they
/// survive a hop through a wait queue or the dead-letter queue); the user's headers as they are.
/// </summary>
/// <remarks>
/// AMQP tables carry strings, numbers, booleans, byte arrays, timestamps, lists and tables. A string arrives as bytes,
/// and is read back as a string; other values (a <see cref="Guid"/>, a <see cref="DateTimeOffset"/>) travel as their
/// invariant string.
/// </remarks>
internal static class AmqpMessage
{
    public const string TimestampHeader = "bus-timestamp";
    public const string DeliveryCountHeader = "bus-delivery-count";
    public const string ExchangeHeader = "bus-exchange";
    public const string RoutingKeyHeader = "bus-routing-key";
    public const string TypeHeader = "bus-type";
    public const string TimeToLiveHeader = "bus-time-to-live";
    public const string FaultHeader = "bus-fault";

    /// <summary>RabbitMQ's direct reply-to pseudo-queue.</summary>
    public const string DirectReplyTo = "amq.rabbitmq.reply-to";

    private const string BusPrefix = "bus-";

    // 9999-12-31, the last second a DateTimeOffset holds: a timestamp past it (milliseconds sent as seconds) is ignored.
    private const long MaxUnixSeconds = 253_402_300_799;
    private const string QuorumDeliveryCount = "x-delivery-count";

    /// <summary>The properties of a message to publish; a fresh headers table each time (the client adds to it).</summary>
    public static BasicProperties Properties(WireMessage message, string? replyTo)
    {
        // Every header costs the broker too: the delivery count goes only when it is not 1, the correlation id only when
        // it is not the message id (the reader falls back to both).
        var headers = new Dictionary<string, object?>(message.Headers.Count + 4, StringComparer.Ordinal)
        {
            [TimestampHeader] = message.Timestamp.UtcTicks,
            [ExchangeHeader] = message.Exchange,
            [RoutingKeyHeader] = message.RoutingKey,
        };
        if (message.DeliveryCount != 1)
        {
            headers[DeliveryCountHeader] = message.DeliveryCount;
        }

        foreach (var (key, value) in message.Headers)
        {
            if (key != RequestHeaders.ReplyTo)
            {
                headers[key] = ToAmqp(value);
            }
        }

        var properties = new BasicProperties
        {
            MessageId = message.MessageId.ToString(),
            CorrelationId = message.CorrelationId == message.MessageId ? null : message.CorrelationId.ToString(),
            Type = message.TypeName,
            ContentType = message.ContentType,
            DeliveryMode = DeliveryModes.Persistent,
            Timestamp = new AmqpTimestamp(message.Timestamp.ToUnixTimeSeconds()),
            Headers = headers,
        };
        if (message.Priority != 0)
        {
            properties.Priority = message.Priority;
        }

        if (message.TimeToLive is { } ttl)
        {
            // The broker expires it in a queue; the header keeps it where the broker drops the expiration (a wait queue,
            // a dead-letter hop), so the bus can still check it on delivery.
            var milliseconds = (long)Math.Ceiling(ttl.TotalMilliseconds);
            properties.Expiration = milliseconds.ToString(CultureInfo.InvariantCulture);
            headers[TimeToLiveHeader] = milliseconds;
        }

        if (replyTo is not null)
        {
            properties.ReplyTo = replyTo;
        }

        return properties;
    }

    /// <summary>
    /// Reads a delivery as the bus's wire message (the body is the client's buffer: valid during the callback only). A
    /// delivery whose properties cannot be read (another client's millisecond timestamp, a header of the wrong type)
    /// comes back as a raw envelope, to be dead-lettered as malformed rather than requeued forever.
    /// </summary>
    public static bool TryRead(BasicDeliverEventArgs delivery, TimeProvider time, out WireMessage wire, out Unreadable unreadable) =>
        TryRead(delivery.BasicProperties, delivery.Body, delivery.Exchange, delivery.RoutingKey, delivery.Redelivered, time, out wire, out unreadable);

    /// <inheritdoc cref="TryRead(BasicDeliverEventArgs, TimeProvider, out WireMessage, out Unreadable)"/>
    public static bool TryRead(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, string exchange, string routingKey, bool redelivered, TimeProvider time, out WireMessage wire, out Unreadable unreadable)
    {
        try
        {
            wire = Read(properties, body, exchange, routingKey, redelivered, time);
            unreadable = default;
            return true;
        }
        catch (Exception exception) when (exception is ArgumentException or FormatException or OverflowException or InvalidCastException)
        {
            var headers = new Dictionary<string, object?>(StringComparer.Ordinal) { [TypeHeader] = properties.Type ?? string.Empty };
            var raw = new Envelope(body.ToArray(), typeof(byte[]), MessageIdGenerator.Next(time.GetUtcNow()), Guid.Empty, time.GetUtcNow(), exchange, routingKey, headers, deliveryCount: 1);
            wire = null!;
            unreadable = new Unreadable(raw, $"its AMQP properties cannot be read: {exception.Message}");
            return false;
        }
    }

    /// <summary>A delivery that could not be read: as raw bytes, and why.</summary>
    internal readonly record struct Unreadable(Envelope Envelope, string Description);

    private static WireMessage Read(IReadOnlyBasicProperties properties, ReadOnlyMemory<byte> body, string exchange, string routingKey, bool redelivered, TimeProvider time)
    {
        var headers = new Dictionary<string, object?>(StringComparer.Ordinal);
        long? timestampTicks = null;
        var deliveryCount = 1;
        long? quorumCount = null;
        string? typeHeader = null;
        long? timeToLiveHeader = null;
        if (properties.Headers is { } table)
        {
            foreach (var (key, raw) in table)
            {
                var value = FromAmqp(raw);
                switch (key)
                {
                    case TimestampHeader when value is long ticks:
                        timestampTicks = ticks;
                        break;
                    case DeliveryCountHeader when value is int or long:
                        deliveryCount = (int)Math.Clamp(Convert.ToInt64(value, CultureInfo.InvariantCulture), 1, Envelope.MaxDeliveryCount);
                        break;
                    case ExchangeHeader when value is string original:
                        exchange = original;
                        break;
                    case RoutingKeyHeader when value is string original:
                        routingKey = original;
                        break;
                    case TypeHeader when value is string name:
                        typeHeader = name;
                        break;
                    case TimeToLiveHeader when value is int or long:
                        timeToLiveHeader = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                        break;
                    case QuorumDeliveryCount when value is int or long:
                        quorumCount = Convert.ToInt64(value, CultureInfo.InvariantCulture);
                        break;
                    case RetryHeaders.FirstFailedAt when value is string text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind, out var at):
                        headers[key] = at;
                        break;
                    default:
                        if (!IsBrokerOrBusHeader(key))
                        {
                            headers[key] = value;
                        }

                        break;
                }
            }
        }

        // The broker's own count of this delivery: quorum queues count every return; classic ones only flag one.
        var redeliveries = quorumCount ?? (redelivered ? 1 : 0);
        deliveryCount = (int)Math.Min(deliveryCount + redeliveries, Envelope.MaxDeliveryCount);
        if (properties.ReplyTo is { Length: > 0 } replyTo)
        {
            headers[RequestHeaders.ReplyTo] = replyTo;
        }

        var messageId = Guid.TryParse(properties.MessageId, out var id) ? id : MessageIdGenerator.Next(time.GetUtcNow());
        var timestamp = timestampTicks is { } exact && exact is > 0 and <= 3155378975999999999 ? new DateTimeOffset(exact, TimeSpan.Zero)
            : properties.Timestamp.UnixTime is > 0 and <= MaxUnixSeconds ? DateTimeOffset.FromUnixTimeSeconds(properties.Timestamp.UnixTime)
            : time.GetUtcNow();
        var milliseconds = timeToLiveHeader
            ?? (long.TryParse(properties.Expiration, NumberStyles.None, CultureInfo.InvariantCulture, out var expiration) ? expiration : 0);
        TimeSpan? timeToLive = milliseconds is > 0 and <= uint.MaxValue ? TimeSpan.FromMilliseconds(milliseconds) : null;
        return new WireMessage(
            body,
            properties.ContentType ?? string.Empty,
            properties.Type ?? typeHeader ?? string.Empty,
            messageId,
            Guid.TryParse(properties.CorrelationId, out var correlation) ? correlation : messageId,
            timestamp,
            timeToLive,
            properties.Priority,
            deliveryCount,
            exchange,
            routingKey,
            headers);
    }

    /// <summary>Reads a header value of the bus's own (a string arrives as bytes).</summary>
    public static string? HeaderString(IReadOnlyBasicProperties properties, string key) =>
        properties.Headers is { } table && table.TryGetValue(key, out var raw) ? FromAmqp(raw) as string : null;

    public static long? HeaderLong(IReadOnlyBasicProperties properties, string key) =>
        properties.Headers is { } table && table.TryGetValue(key, out var raw) && raw is int or long
            ? Convert.ToInt64(raw, CultureInfo.InvariantCulture)
            : null;

    private static bool IsBrokerOrBusHeader(string key) =>
        key.StartsWith(BusPrefix, StringComparison.Ordinal)
        || key.StartsWith("x-death", StringComparison.Ordinal)
        || key.StartsWith("x-first-death", StringComparison.Ordinal)
        || key.StartsWith("x-last-death", StringComparison.Ordinal)
        || key == "x-dotnet-pub-seq-no"
        || key == RequestHeaders.ReplyTo;

    private static object? ToAmqp(object? value) => value switch
    {
        null or string or bool or int or long or double or byte[] or decimal or float or short or byte or sbyte or uint or ushort => value,
        DateTimeOffset at => at.ToString("O", CultureInfo.InvariantCulture),
        DateTime at => at.ToString("O", CultureInfo.InvariantCulture),
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };

    private static object? FromAmqp(object? value) => value switch
    {
        byte[] bytes => Encoding.UTF8.GetString(bytes),
        AmqpTimestamp stamp => DateTimeOffset.FromUnixTimeSeconds(stamp.UnixTime),
        _ => value,
    };
}
