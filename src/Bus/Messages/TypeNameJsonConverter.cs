using System.Text.Json;
using System.Text.Json.Serialization;

namespace Bus;

/// <summary>
/// Writes a <see cref="Type"/> to JSON as its name (<see cref="Type.ToString"/>: namespace-qualified, generic arguments
/// in brackets, no assembly names), so that an <see cref="Envelope"/> or a <see cref="DeadLetter"/> serializes with
/// <see cref="JsonSerializer"/> as it is (<see cref="Envelope.MessageType"/> carries it). Reading is not supported: a type
/// named by JSON from outside could be any type, and loading types by name is not safe.
/// </summary>
public sealed class TypeNameJsonConverter : JsonConverter<Type>
{
    /// <summary>Throws: reading a type from JSON is not supported.</summary>
    /// <param name="reader">The reader.</param>
    /// <param name="typeToConvert">The type to convert.</param>
    /// <param name="options">The serializer options.</param>
    /// <returns>Never returns.</returns>
    /// <exception cref="NotSupportedException">Always.</exception>
    public override Type Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        throw new NotSupportedException(
            "A System.Type is written to JSON as its name, and is not read back: a type named by JSON could be any type. "
            + "Read the name as a string, or deserialize the message itself as its own type.");

    /// <summary>Writes the type's name.</summary>
    /// <param name="writer">The writer.</param>
    /// <param name="value">The type.</param>
    /// <param name="options">The serializer options.</param>
    public override void Write(Utf8JsonWriter writer, Type value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        writer.WriteStringValue(value.ToString());
    }
}
