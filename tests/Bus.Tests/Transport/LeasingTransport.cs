using System.Collections.Concurrent;
using System.Threading.Channels;

namespace Bus.Tests.Transport;

/// <summary>
/// A transport that leases its deliveries, as a broker or a store that leases rows does: every delivery taken gets a
/// lease, and the transport records how each lease was settled, so a test can check that the bus settles every
/// delivery exactly once, and how.
/// </summary>
internal sealed class LeasingTransport(TransportFeatures features = TransportFeatures.BoundedQueues | TransportFeatures.Leases) : IMessageTransport
{
    private long _nextLease;

    public TransportFeatures Features => features;

    public ConcurrentDictionary<long, Guid> Leased { get; } = new();

    public ConcurrentQueue<(long Lease, Guid MessageId, DeliveryOutcome Outcome)> Settled { get; } = new();

    public int Enqueued => Volatile.Read(ref _enqueued);

    private int _enqueued;

    public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped) =>
        new LeasingQueue(this, Channel.CreateBounded<Envelope>(options.Capacity));

    private sealed class LeasingQueue(LeasingTransport transport, Channel<Envelope> channel) : ITransportQueue
    {
        public int Count => channel.Reader.Count;

        public bool TryEnqueue(in Envelope envelope)
        {
            var written = channel.Writer.TryWrite(envelope);
            if (written)
            {
                Interlocked.Increment(ref transport._enqueued);
            }

            return written;
        }

        public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken) => channel.Writer.WaitToWriteAsync(cancellationToken);

        public bool TryReceive(out Envelope envelope, out long lease)
        {
            if (!channel.Reader.TryRead(out envelope))
            {
                lease = QueueLane.NoLease;
                return false;
            }

            lease = Interlocked.Increment(ref transport._nextLease);
            transport.Leased[lease] = envelope.MessageId;
            return true;
        }

        public ValueTask<bool> WaitToReceiveAsync(CancellationToken cancellationToken) => channel.Reader.WaitToReadAsync(cancellationToken);

        public ValueTask SettleAsync(long lease, DeliveryOutcome outcome)
        {
            transport.Settled.Enqueue((lease, transport.Leased[lease], outcome));
            return default;
        }

        public void Complete() => channel.Writer.TryComplete();

        public bool TryGetOldestTimestamp(out long timestampTicks)
        {
            var found = channel.Reader.TryPeek(out var head);
            timestampTicks = head.TimestampTicks;
            return found;
        }
    }
}
