using System.Collections.Frozen;
using System.Reflection;

namespace Bus;

/// <summary>
/// The names message types travel under between processes, and the way back: a name is resolved only against the types
/// this table was built with (the bus's consumed and declared message types), so a name that arrives from outside can
/// never make the bus load or instantiate a type it did not already know.
/// </summary>
public sealed class MessageTypeNames
{
    private readonly FrozenDictionary<string, Type> _types;
    private readonly FrozenDictionary<Type, string> _names;

    /// <summary>Builds the table for the given message types.</summary>
    /// <param name="messageTypes">The message types the application sends and receives.</param>
    /// <exception cref="ArgumentException">Two types share a name.</exception>
    public MessageTypeNames(IEnumerable<Type> messageTypes)
    {
        ArgumentNullException.ThrowIfNull(messageTypes);
        var types = new Dictionary<string, Type>(StringComparer.Ordinal);
        var names = new Dictionary<Type, string>();
        foreach (var type in messageTypes)
        {
            ArgumentNullException.ThrowIfNull(type, nameof(messageTypes));
            if (names.ContainsKey(type))
            {
                continue;
            }

            var name = NameOf(type);
            if (types.TryGetValue(name, out var other))
            {
                throw new ArgumentException($"{type} and {other} both travel under the name '{name}': give one of them another name with [MessageType(\"...\")].", nameof(messageTypes));
            }

            types.Add(name, type);
            names.Add(type, name);
        }

        _types = types.ToFrozenDictionary(StringComparer.Ordinal);
        _names = names.ToFrozenDictionary();
    }

    /// <summary>Gets the types the table knows.</summary>
    public IReadOnlyCollection<Type> Types => _names.Keys;

    /// <summary>The name a type travels under: its <see cref="MessageTypeAttribute"/> name, else its full name.</summary>
    /// <param name="messageType">The message type.</param>
    /// <returns>The name.</returns>
    public static string NameOf(Type messageType)
    {
        ArgumentNullException.ThrowIfNull(messageType);
        return messageType.GetCustomAttribute<MessageTypeAttribute>(inherit: false)?.Name
            ?? messageType.FullName
            ?? throw new ArgumentException($"{messageType} has no full name (a generic parameter?); it cannot be a message type.", nameof(messageType));
    }

    /// <summary>The name of a known type, looked up without reflection.</summary>
    /// <param name="messageType">The message type.</param>
    /// <returns>The name.</returns>
    /// <exception cref="ArgumentException">The table does not know the type.</exception>
    public string GetName(Type messageType) =>
        _names.TryGetValue(messageType, out var name)
            ? name
            : throw new ArgumentException($"{messageType} is not a message type of this bus: consume it, or declare it with AddMessageType<{messageType.Name}>().", nameof(messageType));

    /// <summary>The name of a known type, or false for a type the table does not know.</summary>
    internal bool TryGetName(Type messageType, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out string? name) =>
        _names.TryGetValue(messageType, out name);

    /// <summary>Resolves a name that arrived with a message, against the known types only.</summary>
    /// <param name="name">The name.</param>
    /// <param name="messageType">The type, when known.</param>
    /// <returns><see langword="false"/> for a name the bus does not know: such a message is dead-lettered as <see cref="DeadLetterReason.UnknownMessageType"/>, never instantiated.</returns>
    public bool TryResolve(string name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Type? messageType) =>
        _types.TryGetValue(name, out messageType);
}
