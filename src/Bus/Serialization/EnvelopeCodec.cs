using System.Buffers;
using System.Collections.Concurrent;

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
    private readonly Lock _lock = new();
    private volatile MessageTypeNames _names = names;

    // Names of types sent but not received here (a publisher needs no declaration): one entry per type the process
    // publishes, so bounded by its code.
    private readonly ConcurrentDictionary<Type, string> _sentNames = new();

    public IMessageSerializer Serializer => serializer;

    public int MaxMessageSize => maxMessageSize;

    /// <summary>The name a type travels under, for any type sent.</summary>
    public string NameOf(Type messageType) =>
        _names.TryGetName(messageType, out var name) ? name : _sentNames.GetOrAdd(messageType, MessageTypeNames.NameOf);

    /// <summary>
    /// Adds message types the bus receives from now on (a consumer added at run time): the table is rebuilt, which is
    /// rare; reads never wait for it.
    /// </summary>
    /// <exception cref="ArgumentException">A type travels under a name another known type has.</exception>
    public void Know(IEnumerable<Type> messageTypes)
    {
        lock (_lock)
        {
            var known = _names;
            List<Type>? added = null;
            foreach (var type in messageTypes)
            {
                if (!known.TryGetName(type, out _))
                {
                    (added ??= []).Add(type);
                }
            }

            if (added is not null)
            {
                _names = new MessageTypeNames([.. known.Types, .. added]);
            }
        }
    }

    /// <summary>Serializes a message body alone (a reply), refusing one over the size limit.</summary>
    public ReadOnlyMemory<byte> Serialize(object message, Type messageType)
    {
        var body = new ArrayBufferWriter<byte>();
        serializer.Serialize(message, messageType, body);
        if (body.WrittenCount > maxMessageSize)
        {
            throw new ArgumentException($"{messageType} serializes to {body.WrittenCount} bytes, more than BusOptions.MaxMessageSize ({maxMessageSize}); it was not sent.", nameof(message));
        }

        return body.WrittenMemory;
    }

    /// <summary>Reads a reply as the type its requester expects, if it travels under that type's name.</summary>
    public bool TryDeserializeAs(ReadOnlySpan<byte> body, string typeName, Type expected, out object? message, out string? problem)
    {
        message = null;
        if (body.Length > maxMessageSize)
        {
            problem = $"its body is {body.Length} bytes, more than BusOptions.MaxMessageSize ({maxMessageSize})";
            return false;
        }

        if (typeName != NameOf(expected))
        {
            problem = $"it is a '{typeName}', and the requester expects {expected}";
            return false;
        }

        try
        {
            message = serializer.Deserialize(body, expected);
            problem = null;
            return true;
        }
        catch (Exception exception)
        {
            problem = $"its body does not read as {expected}: {exception.Message}";
            return false;
        }
    }
    /// <summary>Serializes an envelope; refuses a message over the size limit before anything is sent.</summary>
    /// <exception cref="ArgumentException">The message type is not one the bus knows, or the body is too large.</exception>
    public WireMessage Encode(in Envelope envelope)
    {
        var typeName = NameOf(envelope.MessageType);
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

        if (!_names.TryResolve(message.TypeName, out var messageType))
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
