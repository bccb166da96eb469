using System.Diagnostics;
using System.Threading.Channels;

namespace Bus;

/// <summary>
/// A queue of the in-memory transport: a bounded <see cref="Channel{T}"/> of envelopes. Its storage grows with use, as
/// a channel's does, up to the capacity, so an idle queue costs a few hundred bytes whatever its capacity.
/// </summary>
[DebuggerDisplay("Channel queue: {Count}")]
internal sealed class ChannelQueue : ITransportQueue
{
    private readonly ChannelWriter<Envelope> _writer;
    private readonly ChannelReader<Envelope> _reader;

    public ChannelQueue(QueueOptions options, Action<Envelope> onDropped)
    {
        var channel = Channel.CreateBounded(
            new BoundedChannelOptions(options.Capacity)
            {
                FullMode = options.FullMode switch
                {
                    QueueFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                    QueueFullMode.DropNewest => BoundedChannelFullMode.DropNewest,
                    _ => BoundedChannelFullMode.Wait,
                },

                // One reader takes messages while consumers keep up; a queue with competing consumers may add readers
                // while one is stuck in a consumer (see QueueLane).
                SingleReader = options.Concurrency == 1,
                SingleWriter = false,

                // Publishers must not run consumer continuations inline: a publish would then take a consumer's time.
                AllowSynchronousContinuations = false,
            },
            onDropped);
        _writer = channel.Writer;
        _reader = channel.Reader;
    }

    public int Count => _reader.Count;

    public bool TryEnqueue(in Envelope envelope) => _writer.TryWrite(envelope);

    public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken) => _writer.WaitToWriteAsync(cancellationToken);

    public bool TryReceive(out Envelope envelope, out long lease)
    {
        lease = QueueLane.NoLease;
        return _reader.TryRead(out envelope);
    }

    public ValueTask<bool> WaitToReceiveAsync(CancellationToken cancellationToken) => _reader.WaitToReadAsync(cancellationToken);

    public ValueTask SettleAsync(long lease, DeliveryOutcome outcome) => default;

    public void Complete() => _writer.TryComplete();

    public bool TryGetOldestTimestamp(out long timestampTicks)
    {
        var found = _reader.TryPeek(out var head);
        timestampTicks = head.TimestampTicks;
        return found;
    }
}
