using System.Buffers;

namespace Bus;

/// <summary>
/// Turns messages into bytes and back where they leave the process: a broker transport serializes every message it
/// sends and deserializes every delivery. The in-memory transport never serializes (messages pass by reference).
/// </summary>
/// <remarks>
/// The type to deserialize to is always one the bus knows (a consumed or declared message type, see
/// <see cref="MessageTypeNames"/>); a serializer is never asked to instantiate a type named by incoming data.
/// </remarks>
public interface IMessageSerializer
{
    /// <summary>Gets the MIME type of the bytes, carried with each message (for example <c>application/json</c>).</summary>
    string ContentType { get; }

    /// <summary>Writes a message.</summary>
    /// <param name="message">The message.</param>
    /// <param name="messageType">The type it is published as.</param>
    /// <param name="destination">Where the bytes go.</param>
    void Serialize(object message, Type messageType, IBufferWriter<byte> destination);

    /// <summary>Reads a message.</summary>
    /// <param name="body">The bytes.</param>
    /// <param name="messageType">The type to read, one the bus knows.</param>
    /// <returns>The message.</returns>
    /// <exception cref="Exception">The bytes are not a <paramref name="messageType"/>; the bus dead-letters the delivery as <see cref="DeadLetterReason.Malformed"/>.</exception>
    object Deserialize(ReadOnlySpan<byte> body, Type messageType);
}
