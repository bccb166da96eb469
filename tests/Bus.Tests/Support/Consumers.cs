namespace Bus.Tests.Support;

/// <summary>Records every message it consumes.</summary>
public sealed class RecordingConsumer<TMessage>(Recorder recorder) : IConsumer<TMessage>
{
    public ValueTask ConsumeAsync(ConsumeContext<TMessage> context, CancellationToken cancellationToken)
    {
        recorder.Record(context, GetType().Name);
        return default;
    }
}

/// <summary>Waits at the gate, then records the message.</summary>
public sealed class GatedConsumer<TMessage>(Gate gate, Recorder recorder) : IConsumer<TMessage>
{
    public async ValueTask ConsumeAsync(ConsumeContext<TMessage> context, CancellationToken cancellationToken)
    {
        await gate.PassAsync(cancellationToken);
        recorder.Record(context, GetType().Name);
    }
}
