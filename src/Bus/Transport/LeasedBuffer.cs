using System.Diagnostics;
using System.Threading.Channels;

namespace Bus;

/// <summary>
/// A lane's storage over a broker: the deliveries a broker's consumer handed over and no reader took yet, each with its
/// lease. It holds at most what the broker prefetched (its prefetch bounds it), plus retries that fell back to the
/// in-process schedule.
/// </summary>
[DebuggerDisplay("Leased buffer: {Count}")]
internal sealed class LeasedBuffer : ITransportQueue
{
    private readonly Channel<(Envelope Envelope, long Lease)> _channel;

    public LeasedBuffer()
    {
        _channel = Channel.CreateUnbounded<(Envelope, long)>(new UnboundedChannelOptions
        {
            // Not SingleReader even with one reader: the single-reader unbounded channel cannot count its items.
            SingleReader = false,
            SingleWriter = false,

            // The broker's dispatch thread must not run consumers inline.
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The consumer that settles this lane's leases; set once the queue starts consuming.</summary>
    public IBrokerConsumer? Consumer { get; set; }

    public int Count => _channel.Reader.Count;

    /// <summary>Adds a delivery with its lease; false once the lane is closed.</summary>
    public bool Add(in Envelope envelope, long lease) => _channel.Writer.TryWrite((envelope, lease));

    public bool TryEnqueue(in Envelope envelope) => _channel.Writer.TryWrite((envelope, QueueLane.NoLease));

    public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken) => _channel.Writer.WaitToWriteAsync(cancellationToken);

    public bool TryReceive(out Envelope envelope, out long lease)
    {
        if (_channel.Reader.TryRead(out var item))
        {
            (envelope, lease) = item;
            return true;
        }

        envelope = default;
        lease = QueueLane.NoLease;
        return false;
    }

    public ValueTask<bool> WaitToReceiveAsync(CancellationToken cancellationToken) => _channel.Reader.WaitToReadAsync(cancellationToken);

    public ValueTask SettleAsync(long lease, DeliveryOutcome outcome) =>
        lease == QueueLane.NoLease || Consumer is not { } consumer ? default : consumer.SettleAsync(lease, outcome);

    public void Complete() => _channel.Writer.TryComplete();

    public bool TryGetOldestTimestamp(out long timestampTicks)
    {
        var found = _channel.Reader.TryPeek(out var head);
        timestampTicks = head.Envelope.TimestampTicks;
        return found;
    }
}
