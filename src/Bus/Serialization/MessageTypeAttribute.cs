namespace Bus;

/// <summary>
/// Gives a message type the stable name it travels under between processes (for example <c>"shop.order-placed"</c>),
/// so that renaming or moving the class does not break messages already in a broker. Without it, a type travels under
/// its full name.
/// </summary>
/// <param name="name">The name; unique among the message types of an application.</param>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Struct | AttributeTargets.Interface, Inherited = false)]
public sealed class MessageTypeAttribute(string name) : Attribute
{
    /// <summary>Gets the name the type travels under.</summary>
    public string Name { get; } = string.IsNullOrWhiteSpace(name)
        ? throw new ArgumentException("A message type name must not be empty.", nameof(name))
        : name;
}
