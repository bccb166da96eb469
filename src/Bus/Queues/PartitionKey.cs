namespace Bus;

/// <summary>
/// How a partitioned queue finds the key of one message type: a typed selector, hashed with the key type's default
/// equality, so equal keys always land in the same partition.
/// </summary>
internal abstract class PartitionKey
{
    public abstract Type MessageType { get; }

    /// <summary>The hash of the message's key; the message must be of <see cref="MessageType"/>.</summary>
    public abstract int Hash(object message);
}

/// <inheritdoc cref="PartitionKey"/>
internal sealed class PartitionKey<TMessage, TKey>(Func<TMessage, TKey> selector) : PartitionKey
{
    public override Type MessageType => typeof(TMessage);

    public override int Hash(object message) =>
        selector((TMessage)message) is { } key ? EqualityComparer<TKey>.Default.GetHashCode(key) : 0;
}
