namespace Bus;

/// <summary>Delivers messages of one type to their consumer, for one slot.</summary>
internal abstract class MessageHandler(Type messageType, Type consumerType, ConsumeContext context, IRetryPolicy retryPolicy)
{
    public Type MessageType { get; } = messageType;

    public Type ConsumerType { get; } = consumerType;

    /// <summary>The context the handler reuses; it holds the envelope of the message delivered last.</summary>
    public ConsumeContext Context { get; } = context;

    public IRetryPolicy RetryPolicy { get; } = retryPolicy;

    /// <summary>Puts the message in the context, before the slot goes in flight.</summary>
    public abstract void Prepare(in Envelope envelope);

    /// <summary>Calls the consumer with the message prepared.</summary>
    public abstract ValueTask HandleAsync(CancellationToken cancellationToken);
}
