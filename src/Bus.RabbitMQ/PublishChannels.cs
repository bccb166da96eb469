using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ;

/// <summary>
/// The channels publishes go out on, each with publisher confirms tracked by the client (a publish completes on its
/// confirm). Publishes take the channels in turn. A channel the broker closed (an error on it) is replaced on the next
/// publish; the connection's own recovery restores channels after a connection loss.
/// </summary>
internal sealed class PublishChannels(int count)
{
    private static readonly CreateChannelOptions s_confirmed = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    private readonly IChannel?[] _channels = new IChannel?[count];
    private readonly SemaphoreSlim _creating = new(1, 1);
    private uint _next;

    /// <summary>A channel to publish on: open, or created now.</summary>
    public ValueTask<IChannel> GetAsync(IConnection connection, CancellationToken cancellationToken)
    {
        var index = (int)(Interlocked.Increment(ref _next) % (uint)_channels.Length);
        var channel = Volatile.Read(ref _channels[index]);
        return channel is { IsClosed: false } ? new(channel) : CreateAsync(connection, index, cancellationToken);
    }

    /// <summary>Forgets a channel, so that the next publish on its slot opens another.</summary>
    public void Discard(IChannel channel)
    {
        for (var i = 0; i < _channels.Length; i++)
        {
            Interlocked.CompareExchange(ref _channels[i], null, channel);
        }
    }

    /// <summary>Opens a channel with confirms (for the reply channel, which also consumes).</summary>
    public static Task<IChannel> OpenAsync(IConnection connection, CancellationToken cancellationToken) =>
        connection.CreateChannelAsync(s_confirmed, cancellationToken);

    public async Task CloseAsync()
    {
        foreach (var channel in _channels)
        {
            if (channel is { IsOpen: true })
            {
                try
                {
                    await channel.CloseAsync().ConfigureAwait(false);
                }
                catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
                {
                    // Closed by the broker or the connection meanwhile: nothing left to close.
                }
            }
        }
    }

    private async ValueTask<IChannel> CreateAsync(IConnection connection, int index, CancellationToken cancellationToken)
    {
        await _creating.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var channel = Volatile.Read(ref _channels[index]);
            if (channel is { IsClosed: false })
            {
                return channel;
            }

            channel?.Dispose();
            channel = await OpenAsync(connection, cancellationToken).ConfigureAwait(false);
            Volatile.Write(ref _channels[index], channel);
            return channel;
        }
        finally
        {
            _creating.Release();
        }
    }
}
