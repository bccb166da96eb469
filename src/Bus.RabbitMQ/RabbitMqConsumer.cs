using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ;

/// <summary>
/// The consumer of one queue: its own channel, a prefetch of what the queue's consumer slots can hold
/// (<see cref="QueueOptions.Concurrency"/> × <see cref="QueueOptions.PrefetchCount"/>), manual acks. Each delivery is
/// read in the client's callback (its body buffer is released after) and handed to the bus's queue with a lease: the
/// delivery tag and the connection's epoch, so a lease from before a reconnection (whose delivery the broker already
/// returned) is never acked on the new channel.
/// </summary>
internal sealed class RabbitMqConsumer : IBrokerConsumer
{
    private const int EpochShift = 48;
    private const long TagMask = (1L << EpochShift) - 1;

    private readonly RabbitMqTransport _transport;
    private readonly string _queue;
    private readonly QueueOptions _options;
    private readonly IDeliveryTarget _target;
    private readonly TaskCompletionSource<IChannel> _channel = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _starting;
    private string? _consumerTag;
    private int _stopped;

    public RabbitMqConsumer(RabbitMqTransport transport, string queue, QueueOptions options, IDeliveryTarget target)
    {
        _transport = transport;
        _queue = queue;
        _options = options;
        _target = target;
    }

    public void Start() => _starting = StartAsync();

    public ValueTask SettleAsync(long lease, DeliveryOutcome outcome)
    {
        var epoch = (int)(lease >> EpochShift);
        if (epoch != (_transport.Connections.ConsumeEpoch & 0x7FFF) || !_channel.Task.IsCompletedSuccessfully)
        {
            // Delivered on a connection since lost: the broker returned it when the connection closed.
            return default;
        }

        var channel = _channel.Task.Result;
        var tag = (ulong)(lease & TagMask);
        ValueTask settling;
        try
        {
            settling = outcome == DeliveryOutcome.Acknowledged
                ? channel.BasicAckAsync(tag, multiple: false)
                : channel.BasicNackAsync(tag, multiple: false, requeue: true);
        }
        catch (Exception exception) when (IsChannelGone(exception))
        {
            return default;
        }

        return settling.IsCompletedSuccessfully ? settling : IgnoreChannelGoneAsync(settling);
    }

    /// <summary>
    /// A channel lost before its settlement reached the broker: the broker returned the delivery when the channel
    /// closed (it is delivered again, with its redelivered flag), so there is nothing left to settle.
    /// </summary>
    private static bool IsChannelGone(Exception exception) => exception is AlreadyClosedException or OperationInterruptedException;

    private static async ValueTask IgnoreChannelGoneAsync(ValueTask settling)
    {
        try
        {
            await settling.ConfigureAwait(false);
        }
        catch (Exception exception) when (IsChannelGone(exception))
        {
            // See IsChannelGone.
        }
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0 || _starting is null)
        {
            return;
        }

        try
        {
            await _starting.ConfigureAwait(false);
            if (_consumerTag is { } tag && _channel.Task.Result is { IsOpen: true } channel)
            {
                await channel.BasicCancelAsync(tag).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException or InvalidOperationException)
        {
            // The channel is gone: the broker returned what it had delivered, and delivers nothing more.
        }
    }

    /// <summary>Closes the channel; the broker returns any delivery still unacked.</summary>
    public async Task CloseAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _transport.Forget(this);
        if (_channel.Task.IsCompletedSuccessfully && _channel.Task.Result is { IsOpen: true } channel)
        {
            try
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
            catch (Exception exception) when (exception is AlreadyClosedException or OperationInterruptedException)
            {
                // Closed meanwhile.
            }
        }
    }

    private async Task StartAsync()
    {
        try
        {
            var channel = await _transport.Connections.Consume.CreateChannelAsync().ConfigureAwait(false);
            var prefetch = (ushort)Math.Clamp((long)_options.Concurrency * _options.PrefetchCount, 1, ushort.MaxValue);
            await channel.BasicQosAsync(0, prefetch, global: false).ConfigureAwait(false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += OnReceivedAsync;
            _channel.TrySetResult(channel);
            _consumerTag = await channel.BasicConsumeAsync(_queue, autoAck: false, consumer).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            _channel.TrySetException(exception);
            Log.ConsumerFailed(_transport.Logger, exception, _queue);
        }
    }

    private async Task OnReceivedAsync(object sender, BasicDeliverEventArgs delivery)
    {
        var channel = ((AsyncEventingBasicConsumer)sender).Channel;
        var context = _transport.Context;
        var epoch = _transport.Connections.ConsumeEpoch & 0x7FFF;
        var lease = ((long)epoch << EpochShift) | (long)(delivery.DeliveryTag & TagMask);
        try
        {
            var wire = AmqpMessage.Read(delivery, context.Time);
            if (context.Codec.TryDecode(wire, out var envelope, out var reason, out var description))
            {
                if (!_target.Deliver(envelope, lease))
                {
                    // The queue closed (the bus is stopping): the broker keeps the message for the next consumer.
                    await IgnoreChannelGoneAsync(channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true)).ConfigureAwait(false);
                }

                return;
            }

            var raw = envelope.WithHeaders(MessageHeaders.With(envelope.Headers, AmqpMessage.TypeHeader, wire.TypeName));
            await _target.RefuseAsync(raw, reason, description).ConfigureAwait(false);
            await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.DeliveryFailed(_transport.Logger, exception, _queue);
            await IgnoreChannelGoneAsync(channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true)).ConfigureAwait(false);
        }
    }
}
