using System.Buffers;

namespace Bus;

/// <summary>
/// Turns envelopes into <see cref="WireMessage"/>s and back, for transports that leave the process: the serializer
/// writes the body, <see cref="MessageTypeNames"/> names the type, and <see cref="BusOptions.MaxMessageSize"/> bounds
/// the body both ways.
/// </summary>
/// <remarks>
/// Reading never instantiates a type named by incoming data: a name the bus does not know, a body that does not read,
/// or a body over the limit comes back as a failure with its dead-letter reason, and an envelope that carries the raw
/// body (as a byte array) and everything else that arrived, so the message can be dead-lettered as it was.
/// </remarks>
internal sealed class EnvelopeCodec(IMessageSerializer serializer, MessageTypeNames names, int maxMessageSize)
{
    /// <summary>Serializes an envelope; refuses a message over the size limit before anything is sent.</summary>
    /// <exception cref="ArgumentException">The message type is not one the bus knows, or the body is too large.</exception>
    public WireMessage Encode(in Envelope envelope)
    {
        var typeName = names.GetName(envelope.MessageType);
        var body = new ArrayBufferWriter<byte>();
        serializer.Serialize(envelope.Message, envelope.MessageType, body);
        if (body.WrittenCount > maxMessageSize)
        {
            throw new ArgumentException(
                $"{envelope.MessageType} {envelope.MessageId} serializes to {body.WrittenCount} bytes, more than BusOptions.MaxMessageSize ({maxMessageSize}); it was not sent.",
                nameof(envelope));
        }

        return new WireMessage(
            body.WrittenMemory,
            serializer.ContentType,
            typeName,
            envelope.MessageId,
            envelope.CorrelationId,
            envelope.Timestamp,
            envelope.TimeToLive,
            envelope.Priority,
            envelope.DeliveryCount,
            envelope.Exchange,
            envelope.RoutingKey,
            envelope.Headers);
    }

    /// <summary>
    /// Reads a message that arrived. On failure, <paramref name="envelope"/> carries the raw body as a byte array (its
    /// message type <see cref="byte"/>[]) and <paramref name="reason"/> and <paramref name="description"/> say why.
    /// </summary>
    public bool TryDecode(WireMessage message, out Envelope envelope, out DeadLetterReason reason, out string description)
    {
        if (message.Body.Length > maxMessageSize)
        {
            return Fail(message, DeadLetterReason.TooLarge, $"its body is {message.Body.Length} bytes, more than BusOptions.MaxMessageSize ({maxMessageSize})", out envelope, out reason, out description);
        }

        if (!names.TryResolve(message.TypeName, out var messageType))
        {
            return Fail(message, DeadLetterReason.UnknownMessageType, $"its type '{message.TypeName}' is not a message type of this bus (consume it, or declare it)", out envelope, out reason, out description);
        }

        object body;
        try
        {
            body = serializer.Deserialize(message.Body.Span, messageType);
        }
        catch (Exception exception)
        {
            return Fail(message, DeadLetterReason.Malformed, $"its body does not read as {messageType}: {exception.Message}", out envelope, out reason, out description);
        }

        envelope = Build(message, body, messageType);
        reason = default;
        description = string.Empty;
        return true;
    }

    private static bool Fail(WireMessage message, DeadLetterReason why, string what, out Envelope envelope, out DeadLetterReason reason, out string description)
    {
        envelope = Build(message, message.Body.ToArray(), typeof(byte[]));
        reason = why;
        description = what;
        return false;
    }

    private static Envelope Build(WireMessage message, object body, Type messageType) => new(
        body,
        messageType,
        message.MessageId,
        message.CorrelationId,
        message.Timestamp,
        message.Exchange,
        message.RoutingKey,
        message.Headers.Count == 0 ? null : message.Headers,
        Math.Clamp(message.DeliveryCount, 1, Envelope.MaxDeliveryCount),
        message.TimeToLive is { } ttl && ttl > TimeSpan.Zero && ttl <= Envelope.MaxTimeToLive ? ttl : null,
        message.Priority);
}
