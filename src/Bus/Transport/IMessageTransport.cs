namespace Bus;

/// <summary>
/// Where queued messages live. The default transport keeps them in bounded in-memory channels; a broker-backed
/// transport can take its place without any change to publishers or consumers.
/// </summary>
/// <remarks>Register a replacement with <c>services.AddSingleton&lt;IMessageTransport, MyTransport&gt;()</c>.</remarks>
public interface IMessageTransport
{
    /// <summary>Creates the storage for one queue.</summary>
    /// <param name="name">The queue name.</param>
    /// <param name="options">The queue's options (capacity, full mode and priorities are the transport's to enforce).</param>
    /// <param name="onDropped">
    /// Called with each message the queue drops in <see cref="QueueFullMode.DropOldest"/> or
    /// <see cref="QueueFullMode.DropNewest"/> mode, so the bus can account for it.
    /// </param>
    /// <returns>The queue storage.</returns>
    ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped);
}
