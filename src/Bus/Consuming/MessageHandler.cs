namespace Bus;

/// <summary>Delivers messages of one type to their consumer, for one worker.</summary>
internal abstract class MessageHandler
{
    public abstract Type MessageType { get; }

    public abstract Type ConsumerType { get; }

    public abstract ValueTask HandleAsync(in Envelope envelope, CancellationToken cancellationToken);
}
