using System.Threading.Channels;

namespace Bus;

/// <summary>
/// The default transport: every queue lives in this process, in an <see cref="InMemoryRingQueue"/> when it refuses
/// messages when full, an <see cref="InMemoryPriorityQueue"/> when it has priorities, and otherwise a bounded
/// <see cref="Channel{T}"/>.
/// </summary>
internal sealed class InMemoryTransport : IMessageTransport
{
    public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped)
    {
        if (options.MaxPriority > 0)
        {
            return new InMemoryPriorityQueue(options, onDropped);
        }

        // Refusing modes never drop, so the lock-free ring serves them; it allocates its slots up front, so only up
        // to a size.
        if (options.FullMode is QueueFullMode.Wait or QueueFullMode.Reject && options.Capacity <= InMemoryRingQueue.MaxCapacity)
        {
            return new InMemoryRingQueue(options.Capacity);
        }

        var channelOptions = new BoundedChannelOptions(options.Capacity)
        {
            FullMode = options.FullMode switch
            {
                QueueFullMode.DropOldest => BoundedChannelFullMode.DropOldest,
                QueueFullMode.DropNewest => BoundedChannelFullMode.DropNewest,
                _ => BoundedChannelFullMode.Wait,
            },
            SingleReader = options.Concurrency == 1,
            SingleWriter = false,
            // Publishers must not run consumer continuations inline: a publish would then take a consumer's time.
            AllowSynchronousContinuations = false,
        };
        return new InMemoryTransportQueue(Channel.CreateBounded(channelOptions, onDropped));
    }

    private sealed class InMemoryTransportQueue(Channel<Envelope> channel) : ITransportQueue
    {
        private readonly ChannelWriter<Envelope> _writer = channel.Writer;
        private readonly ChannelReader<Envelope> _reader = channel.Reader;

        public int Count => _reader.Count;

        public bool TryEnqueue(in Envelope envelope) => _writer.TryWrite(envelope);

        public ValueTask<bool> WaitToEnqueueAsync(CancellationToken cancellationToken) =>
            _writer.WaitToWriteAsync(cancellationToken);

        public bool TryDequeue(out Envelope envelope) => _reader.TryRead(out envelope);

        public ValueTask<bool> WaitToDequeueAsync(CancellationToken cancellationToken) =>
            _reader.WaitToReadAsync(cancellationToken);

        public void Complete() => _writer.TryComplete();
    }
}
