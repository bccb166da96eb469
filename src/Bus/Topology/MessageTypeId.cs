namespace Bus;

/// <summary>Hands out the dense message type numbers of <see cref="MessageTypeInfo{TMessage}.Id"/>.</summary>
internal static class MessageTypeId
{
    private static int s_last = -1;

    public static int Next() => Interlocked.Increment(ref s_last);
}
