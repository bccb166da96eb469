using System.Threading.Channels;

namespace Bus;

/// <summary>
/// The default transport: every queue lives in this process, in a bounded <see cref="Channel{T}"/>, or in an
/// <see cref="InMemoryPriorityQueue"/> when it has priorities. Messages pass by reference; nothing is serialized.
/// </summary>
internal sealed class InMemoryTransport : IMessageTransport
{
    public TransportFeatures Features => TransportFeatures.BoundedQueues | TransportFeatures.Priority;

    public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped) =>
        options.MaxPriority > 0 ? new InMemoryPriorityQueue(options, onDropped) : new ChannelQueue(options, onDropped);
}
