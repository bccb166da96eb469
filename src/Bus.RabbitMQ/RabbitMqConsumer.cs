using RabbitMQ.Client;
using RabbitMQ.Client.Events;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ;

/// <summary>
/// The consumer of one queue: its own channel, a prefetch of what the queue's consumer slots can hold
/// (<see cref="QueueOptions.Concurrency"/> × <see cref="QueueOptions.PrefetchCount"/>), manual acks. Each delivery is
/// read in the client's callback (its body buffer is released after) and handed to the bus's queue with a lease: the
/// delivery tag and the channel's generation.
/// </summary>
/// <remarks>
/// The consumer is supervised: a channel the broker closes on its own (a delivery left unacknowledged past the broker's
/// consumer timeout, the queue deleted and declared again) or a start that fails (the connection recovering) is logged
/// and started again on a new channel, after <see cref="RabbitMqOptions.RecoveryInterval"/>, until the bus stops. A
/// lease of an earlier channel is never settled on a later one: the broker returned those deliveries when their channel
/// closed. A connection loss is the client's to recover (the same channel resumes, and the client ignores settlements
/// of tags from before it).
/// </remarks>
internal sealed class RabbitMqConsumer : IBrokerConsumer
{
    private const int GenerationShift = 48;
    private const long TagMask = (1L << GenerationShift) - 1;

    private readonly RabbitMqTransport _transport;
    private readonly string _queue;
    private readonly QueueOptions _options;
    private readonly IDeliveryTarget _target;
    private readonly CancellationTokenSource _stopping = new();
    private readonly SemaphoreSlim _restarting = new(1, 1);
    private volatile Current? _current;
    private int _generation;
    private Task _started = Task.CompletedTask;
    private int _stopped;

    public RabbitMqConsumer(RabbitMqTransport transport, string queue, QueueOptions options, IDeliveryTarget target)
    {
        _transport = transport;
        _queue = queue;
        _options = options;
        _target = target;
    }

    public void Start() => _started = OpenAsync(replacing: null);

    public ValueTask SettleAsync(long lease, DeliveryOutcome outcome)
    {
        if (_current is not { } current || current.Generation != (int)(lease >> GenerationShift))
        {
            // Delivered on a channel since closed: the broker returned it then.
            return default;
        }

        var tag = (ulong)(lease & TagMask);
        ValueTask settling;
        try
        {
            settling = outcome == DeliveryOutcome.Acknowledged
                ? current.Channel.BasicAckAsync(tag, multiple: false)
                : current.Channel.BasicNackAsync(tag, multiple: false, requeue: true);
        }
        catch (Exception exception) when (IsChannelGone(exception))
        {
            return default;
        }

        return settling.IsCompletedSuccessfully ? settling : IgnoreChannelGoneAsync(settling);
    }

    public async Task StopAsync()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0)
        {
            return;
        }

        _stopping.Cancel();
        await _started.ConfigureAwait(false);
        await _restarting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (_current is { Tag: { } tag, Channel: { IsOpen: true } channel })
            {
                await channel.BasicCancelAsync(tag).ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (IsChannelGone(exception))
        {
            // The channel is gone: the broker returned what it had delivered, and delivers nothing more.
        }
        finally
        {
            _restarting.Release();
        }
    }

    /// <summary>Stops and closes the channel; the broker returns any delivery still unacknowledged.</summary>
    public async Task CloseAsync()
    {
        await StopAsync().ConfigureAwait(false);
        _transport.Forget(this);
        if (_current is { } current)
        {
            await CloseQuietlyAsync(current.Channel).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// A channel lost before its settlement reached the broker: the broker returned the delivery when the channel
    /// closed (it is delivered again, with its redelivered flag), so there is nothing left to settle.
    /// </summary>
    private static bool IsChannelGone(Exception exception) => exception is AlreadyClosedException or OperationInterruptedException or ObjectDisposedException;

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

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            if (channel.IsOpen)
            {
                await channel.CloseAsync().ConfigureAwait(false);
            }
        }
        catch (Exception exception) when (IsChannelGone(exception))
        {
            // Closed meanwhile.
        }

        channel.Dispose();
    }

    /// <summary>
    /// Opens a channel and consumes on it, trying again after the recovery interval until it works or the bus stops. A
    /// restart (<paramref name="replacing"/> set) that finds the consumer already replaced does nothing: one channel
    /// consumes at a time.
    /// </summary>
    private async Task OpenAsync(Current? replacing)
    {
        await _restarting.WaitAsync().ConfigureAwait(false);
        try
        {
            if (replacing is not null && _current != replacing)
            {
                return;
            }

            while (!_stopping.IsCancellationRequested)
            {
                IChannel? channel = null;
                try
                {
                    channel = await _transport.Connections.Consume.CreateChannelAsync(cancellationToken: _stopping.Token).ConfigureAwait(false);
                    var prefetch = (ushort)Math.Clamp((long)_options.Concurrency * _options.PrefetchCount, 1, ushort.MaxValue);
                    await channel.BasicQosAsync(0, prefetch, global: false, _stopping.Token).ConfigureAwait(false);
                    var consumer = new AsyncEventingBasicConsumer(channel);
                    var current = new Current(channel, Interlocked.Increment(ref _generation) & 0x7FFF);
                    consumer.ReceivedAsync += (_, delivery) => OnReceivedAsync(current, delivery);
                    channel.ChannelShutdownAsync += (_, args) => OnShutdownAsync(current, args);
                    consumer.UnregisteredAsync += (_, _) => OnCancelledByBrokerAsync(current);
                    _current = current;
                    current.Tag = await channel.BasicConsumeAsync(_queue, autoAck: false, consumer, _stopping.Token).ConfigureAwait(false);
                    return;
                }
                catch (Exception exception) when (!_stopping.IsCancellationRequested)
                {
                    Log.ConsumerFailed(_transport.Logger, exception, _queue, _transport.Options.RecoveryInterval);
                    if (channel is not null)
                    {
                        await CloseQuietlyAsync(channel).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                try
                {
                    await Task.Delay(_transport.Options.RecoveryInterval, TimeProvider.System, _stopping.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
        finally
        {
            _restarting.Release();
        }
    }

    /// <summary>A channel closed: by the connection (its recovery restores the channel), by this consumer, or by the broker (started again).</summary>
    private Task OnShutdownAsync(Current current, ShutdownEventArgs args)
    {
        if (args.Initiator == ShutdownInitiator.Application || !_transport.Connections.Consume.IsOpen)
        {
            return Task.CompletedTask;
        }

        return RestartAsync(current, $"the broker closed its channel ({args.ReplyCode} {args.ReplyText})");
    }

    private Task OnCancelledByBrokerAsync(Current current) =>
        current.Channel.IsOpen ? RestartAsync(current, "the broker cancelled it (the queue was deleted?)") : Task.CompletedTask;

    private Task RestartAsync(Current current, string why)
    {
        // A channel whose consume never started belongs to the opening loop, which sees the failure and tries again.
        if (Volatile.Read(ref _stopped) != 0 || _current != current || current.Tag is null)
        {
            return Task.CompletedTask;
        }

        Log.ConsumerLost(_transport.Logger, _queue, why, _transport.Options.RecoveryInterval);

        // Off the client's dispatch: the restart waits and opens channels.
        _ = Task.Run(async () =>
        {
            await CloseQuietlyAsync(current.Channel).ConfigureAwait(false);
            await OpenAsync(replacing: current).ConfigureAwait(false);
        });
        return Task.CompletedTask;
    }

    private async Task OnReceivedAsync(Current current, BasicDeliverEventArgs delivery)
    {
        var channel = current.Channel;
        var context = _transport.Context;
        var lease = ((long)current.Generation << GenerationShift) | (long)(delivery.DeliveryTag & TagMask);
        try
        {
            if (!AmqpMessage.TryRead(delivery, context.Time, out var wire, out var unreadable))
            {
                await _target.RefuseAsync(unreadable.Envelope, DeadLetterReason.Malformed, unreadable.Description).ConfigureAwait(false);
                await IgnoreChannelGoneAsync(channel.BasicAckAsync(delivery.DeliveryTag, multiple: false)).ConfigureAwait(false);
                return;
            }

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
            await IgnoreChannelGoneAsync(channel.BasicAckAsync(delivery.DeliveryTag, multiple: false)).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.DeliveryFailed(_transport.Logger, exception, _queue);
            await IgnoreChannelGoneAsync(channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true)).ConfigureAwait(false);
        }
    }

    /// <summary>The channel consuming now, and its generation (the high bits of its leases).</summary>
    private sealed class Current(IChannel channel, int generation)
    {
        public IChannel Channel => channel;

        public int Generation => generation;

        public string? Tag { get; set; }
    }
}
