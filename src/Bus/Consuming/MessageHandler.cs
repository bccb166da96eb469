namespace Bus;

/// <summary>Delivers messages of one type to their consumer, for one worker.</summary>
internal abstract class MessageHandler(Type messageType, Type consumerType, ConsumeContext context, IRetryPolicy retryPolicy)
{
    public Type MessageType { get; } = messageType;

    public Type ConsumerType { get; } = consumerType;

    /// <summary>The context the handler reuses; it holds the envelope of the message delivered last.</summary>
    public ConsumeContext Context { get; } = context;

    public IRetryPolicy RetryPolicy { get; } = retryPolicy;

    public abstract ValueTask HandleAsync(in Envelope envelope, CancellationToken cancellationToken);
}
