using System.Collections;

namespace Bus;

/// <summary>
/// The logging scope of one delivery: message id, correlation id, message type and queue, so a consumer's own log lines
/// carry them. One per delivery, never reused: a provider may keep the scope and read it later (a batching exporter),
/// and a consumer that overran its time may still log while its slot delivers the next message.
/// </summary>
internal sealed class ConsumeLogScope(in Envelope envelope, string queue) : IReadOnlyList<KeyValuePair<string, object?>>
{
    private readonly Guid _messageId = envelope.MessageId;
    private readonly Guid _correlationId = envelope.CorrelationId;
    private readonly Type _messageType = envelope.MessageType;
    private readonly string _queue = queue;

    public int Count => 4;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("MessageId", _messageId),
        1 => new("CorrelationId", _correlationId),
        2 => new("MessageType", _messageType),
        3 => new("Queue", _queue),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return this[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"MessageId:{_messageId} CorrelationId:{_correlationId} MessageType:{_messageType.Name} Queue:{_queue}";
}
