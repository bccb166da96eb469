using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bus;

/// <summary>
/// The <see cref="IMessageSerializer"/> on System.Text.Json. Give it options whose <see cref="JsonSerializerOptions.TypeInfoResolver"/>
/// is your source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/> and it needs no
/// reflection, so it stays trim- and native-AOT-safe.
/// </summary>
/// <example>
/// <code>
/// [JsonSerializable(typeof(OrderPlaced))]
/// internal sealed partial class ShopJson : JsonSerializerContext;
///
/// var serializer = new SystemTextJsonMessageSerializer(new JsonSerializerOptions { TypeInfoResolver = ShopJson.Default });
/// </code>
/// </example>
public sealed class SystemTextJsonMessageSerializer : IMessageSerializer
{
    private readonly JsonSerializerOptions _options;

    /// <summary>Creates the serializer with options that carry a type info resolver (a source-generated context).</summary>
    /// <param name="options">The options; their <see cref="JsonSerializerOptions.TypeInfoResolver"/> must be set.</param>
    /// <exception cref="ArgumentException">The options have no type info resolver.</exception>
    public SystemTextJsonMessageSerializer(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.TypeInfoResolver is null)
        {
            throw new ArgumentException(
                "The JsonSerializerOptions have no TypeInfoResolver: set it to your JsonSerializerContext (trim- and AOT-safe), or to new DefaultJsonTypeInfoResolver() to use reflection.",
                nameof(options));
        }

        options.MakeReadOnly();
        _options = options;
    }

    /// <inheritdoc />
    public string ContentType => "application/json";

    /// <inheritdoc />
    public void Serialize(object message, Type messageType, IBufferWriter<byte> destination)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(destination);
        using var writer = new Utf8JsonWriter(destination);
        JsonSerializer.Serialize(writer, message, TypeInfo(messageType));
    }

    /// <inheritdoc />
    public object Deserialize(ReadOnlySpan<byte> body, Type messageType) =>
        JsonSerializer.Deserialize(body, TypeInfo(messageType))
        ?? throw new JsonException($"The body is JSON null, not a {messageType}.");

    private JsonTypeInfo TypeInfo(Type messageType)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        try
        {
            // The options' own cache: asking the resolver directly would build the type's metadata again every time.
            return _options.GetTypeInfo(messageType);
        }
        catch (NotSupportedException exception)
        {
            throw new NotSupportedException($"The serializer's JsonSerializerContext does not know {messageType}: add [JsonSerializable(typeof({messageType.Name}))] to it.", exception);
        }
    }
}
