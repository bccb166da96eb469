namespace Bus;

/// <summary>
/// A message as it crosses a process boundary: its serialized body and what travels beside it, in plain values a
/// transport maps to its own format (AMQP properties and headers, say). Built by <see cref="EnvelopeCodec"/>.
/// </summary>
/// <param name="Body">The serialized message.</param>
/// <param name="ContentType">The serializer's content type.</param>
/// <param name="TypeName">The name the message type travels under (<see cref="MessageTypeNames"/>).</param>
/// <param name="MessageId">The message id.</param>
/// <param name="CorrelationId">The correlation id.</param>
/// <param name="Timestamp">When the message was sent, exact.</param>
/// <param name="TimeToLive">How long after <paramref name="Timestamp"/> it expires, if it does.</param>
/// <param name="Priority">Its priority.</param>
/// <param name="DeliveryCount">How many times it has been delivered (1 on the first delivery).</param>
/// <param name="Exchange">The exchange it was published to; empty for a send.</param>
/// <param name="RoutingKey">The routing key.</param>
/// <param name="Headers">The user's headers (trace context included), unchanged.</param>
internal sealed record WireMessage(
    ReadOnlyMemory<byte> Body,
    string ContentType,
    string TypeName,
    Guid MessageId,
    Guid CorrelationId,
    DateTimeOffset Timestamp,
    TimeSpan? TimeToLive,
    byte Priority,
    int DeliveryCount,
    string Exchange,
    string RoutingKey,
    IReadOnlyDictionary<string, object?> Headers);
