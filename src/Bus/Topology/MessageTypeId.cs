namespace Bus;

/// <summary>
/// A small dense number per message type, so the bus finds a type's exchange by array index instead of a dictionary
/// lookup on every publish.
/// </summary>
internal static class MessageTypeId
{
    private static int s_last = -1;

    public static int Next() => Interlocked.Increment(ref s_last);
}

/// <inheritdoc cref="MessageTypeId"/>
internal static class MessageTypeId<TMessage>
{
    public static readonly int Value = MessageTypeId.Next();
}
