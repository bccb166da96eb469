using System.Threading.Channels;

namespace Bus;

/// <summary>The default transport: every queue is a bounded <see cref="Channel{T}"/> in this process.</summary>
internal sealed class InMemoryTransport : IMessageTransport
{
    public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped)
    {
        if (options.MaxPriority > 0)
        {
            return new InMemoryPriorityQueue(options, onDropped);
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
