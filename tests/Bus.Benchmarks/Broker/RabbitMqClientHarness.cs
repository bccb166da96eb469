using System.Text.Json;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Bus.Benchmarks;

/// <summary>
/// The raw RabbitMQ.Client 7 baseline for the broker throughput scenario, written as its documentation shows: two
/// connections (publishing and consuming), a durable fanout exchange bound to a durable classic queue, messages
/// serialized with System.Text.Json's defaults and published persistent on channels with publisher confirms tracked by
/// the client (each <c>BasicPublishAsync</c> completes on its confirm), and one <see cref="AsyncEventingBasicConsumer"/>
/// with a prefetch, deserializing each message and acking it alone. The floor: no message id, no headers, no routing
/// key, not mandatory.
/// </summary>
public sealed class RabbitMqClientHarness(Uri uri, int outstanding, ushort prefetch, int publishChannels) : IBrokerThroughputHarness
{
    public const string Exchange = "orders";
    public const string Queue = "orders";

    private readonly Countdown _countdown = new();
    private IConnection? _publishing;
    private IConnection? _consuming;
    private IChannel[] _channels = [];
    private Func<int, ValueTask>? _publish;

    public Countdown Countdown => _countdown;

    /// <summary>Channels with publisher confirms tracked by the client, as the brief's baseline asks.</summary>
    public static CreateChannelOptions Confirmed { get; } = new(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true);

    public async Task StartAsync()
    {
        var factory = new ConnectionFactory { Uri = uri };
        _publishing = await factory.CreateConnectionAsync("raw (publish)");
        _consuming = await factory.CreateConnectionAsync("raw (consume)");
        _channels = new IChannel[publishChannels];
        for (var c = 0; c < publishChannels; c++)
        {
            _channels[c] = await _publishing.CreateChannelAsync(Confirmed);
        }

        var declare = _channels[0];
        await declare.ExchangeDeclareAsync(Exchange, global::RabbitMQ.Client.ExchangeType.Fanout, durable: true, autoDelete: false);
        await declare.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);
        await declare.QueueBindAsync(Queue, Exchange, routingKey: string.Empty);

        var consume = await _consuming.CreateChannelAsync();
        await consume.BasicQosAsync(0, prefetch, global: false);
        var consumer = new AsyncEventingBasicConsumer(consume);
        consumer.ReceivedAsync += async (_, delivery) =>
        {
            var message = JsonSerializer.Deserialize<OrderSubmitted>(delivery.Body.Span) ?? throw new InvalidOperationException("An empty message.");
            if (message.Quantity != 3)
            {
                throw new InvalidOperationException($"Message {message.Id} did not read back.");
            }

            _countdown.Signal();
            await consume.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await consume.BasicConsumeAsync(Queue, autoAck: false, consumer);
        _publish = Publish;
    }

    public async Task PublishAndWaitAsync(int count)
    {
        _countdown.Reset(count);
        await BrokerLoad.PublishAsync(count, outstanding, _publish!);
        await _countdown.WaitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in new[] { _consuming, _publishing })
        {
            if (connection is not null)
            {
                await connection.CloseAsync();
                await connection.DisposeAsync();
            }
        }
    }

    private ValueTask Publish(int id)
    {
        var body = JsonSerializer.SerializeToUtf8Bytes(OrderSubmitted.Create(id));
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/json" };
        return _channels[id % _channels.Length].BasicPublishAsync(Exchange, string.Empty, mandatory: false, properties, body);
    }
}

/// <summary>
/// The raw RabbitMQ.Client 7 request/reply, as the Bus transport does it: the request published persistent, with
/// publisher confirms, to a durable queue, <c>reply_to</c> = <c>amq.rabbitmq.reply-to</c> (RabbitMQ's direct reply-to:
/// the requester consumes the pseudo-queue on the channel it publishes on, auto-ack); the responder consumes the queue
/// on the other connection (prefetch as configured, manual ack), publishes the reply on a confirmed channel of the
/// publishing connection, awaits the confirm, then acks the request. One request at a time.
/// </summary>
public sealed class RabbitMqClientRoundTripHarness(Uri uri, ushort prefetch) : IRoundTripHarness
{
    private const string Queue = "requests";
    private const string DirectReplyTo = "amq.rabbitmq.reply-to";

    private IConnection? _publishing;
    private IConnection? _consuming;
    private IChannel _requests = null!;
    private IChannel _replies = null!;
    private TaskCompletionSource<OrderAccepted>? _pending;
    private string _pendingId = string.Empty;

    public async Task StartAsync()
    {
        var factory = new ConnectionFactory { Uri = uri };
        _publishing = await factory.CreateConnectionAsync("raw rr (publish)");
        _consuming = await factory.CreateConnectionAsync("raw rr (consume)");
        _requests = await _publishing.CreateChannelAsync(RabbitMqClientHarness.Confirmed);
        _replies = await _publishing.CreateChannelAsync(RabbitMqClientHarness.Confirmed);
        await _requests.QueueDeclareAsync(Queue, durable: true, exclusive: false, autoDelete: false);

        var replyConsumer = new AsyncEventingBasicConsumer(_requests);
        replyConsumer.ReceivedAsync += (_, delivery) =>
        {
            var pending = _pending;
            if (pending is not null && delivery.BasicProperties.CorrelationId == _pendingId)
            {
                pending.TrySetResult(JsonSerializer.Deserialize<OrderAccepted>(delivery.Body.Span)!);
            }

            return Task.CompletedTask;
        };
        await _requests.BasicConsumeAsync(DirectReplyTo, autoAck: true, replyConsumer);

        var responderChannel = await _consuming.CreateChannelAsync();
        await responderChannel.BasicQosAsync(0, prefetch, global: false);
        var responder = new AsyncEventingBasicConsumer(responderChannel);
        responder.ReceivedAsync += async (_, delivery) =>
        {
            var request = JsonSerializer.Deserialize<OrderSubmitted>(delivery.Body.Span)!;
            var reply = JsonSerializer.SerializeToUtf8Bytes(new OrderAccepted(request.Id));
            var properties = new BasicProperties { CorrelationId = delivery.BasicProperties.MessageId, ContentType = "application/json" };
            await _replies.BasicPublishAsync(string.Empty, delivery.BasicProperties.ReplyTo!, mandatory: false, properties, reply);
            await responderChannel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
        };
        await responderChannel.BasicConsumeAsync(Queue, autoAck: false, responder);
    }

    public async Task RoundTripAsync(int id)
    {
        var pending = new TaskCompletionSource<OrderAccepted>(TaskCreationOptions.RunContinuationsAsynchronously);
        var messageId = Guid.NewGuid().ToString();
        _pendingId = messageId;
        _pending = pending;
        var properties = new BasicProperties
        {
            DeliveryMode = DeliveryModes.Persistent,
            ContentType = "application/json",
            MessageId = messageId,
            ReplyTo = DirectReplyTo,
        };
        await _requests.BasicPublishAsync(string.Empty, Queue, mandatory: true, properties, JsonSerializer.SerializeToUtf8Bytes(OrderSubmitted.Create(id)));
        var reply = await pending.Task.WaitAsync(TimeSpan.FromSeconds(30));
        if (reply.Id != id)
        {
            throw new InvalidOperationException($"Request {id} got the reply of {reply.Id}.");
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in new[] { _consuming, _publishing })
        {
            if (connection is not null)
            {
                await connection.CloseAsync();
                await connection.DisposeAsync();
            }
        }
    }
}
