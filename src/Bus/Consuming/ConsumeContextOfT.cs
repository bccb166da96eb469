namespace Bus;

/// <summary>The message being consumed, with its envelope.</summary>
/// <typeparam name="TMessage">The message type.</typeparam>
public sealed class ConsumeContext<TMessage> : ConsumeContext
{
    internal ConsumeContext(ConsumerSlot slot)
        : base(slot)
    {
    }

    /// <summary>Gets the message.</summary>
    public TMessage Message { get; private set; } = default!;

    internal void Initialize(in Envelope envelope)
    {
        SetEnvelope(envelope);
        Message = (TMessage)envelope.Message;
    }
}
