namespace Bus;

/// <summary>
/// The envelope of the message being consumed, and publishing that carries the message's correlation id over.
/// </summary>
/// <remarks>
/// The bus reuses context objects between messages so that consuming allocates nothing: a context is valid only until
/// the consumer's task completes. Copy what you need to keep.
/// </remarks>
public abstract class ConsumeContext
{
    private readonly ConsumerSlot _slot;
    private Envelope _envelope;
    private string? _rejection;

    private protected ConsumeContext(ConsumerSlot slot) => _slot = slot;

    /// <summary>Gets the whole envelope.</summary>
    public Envelope Envelope => _envelope;

    /// <summary>Gets the unique, time-ordered message id.</summary>
    public Guid MessageId => _envelope.MessageId;

    /// <summary>Gets the id that ties this message to its conversation; messages published from here carry it on.</summary>
    public Guid CorrelationId => _envelope.CorrelationId;

    /// <summary>Gets the time the message was sent.</summary>
    public DateTimeOffset Timestamp => _envelope.Timestamp;

    /// <summary>Gets the message type.</summary>
    public Type MessageType => _envelope.MessageType;

    /// <summary>Gets the exchange the message was published to; empty when it was sent to the queue directly.</summary>
    public string Exchange => _envelope.Exchange;

    /// <summary>Gets the routing key; empty when none was given.</summary>
    public string RoutingKey => _envelope.RoutingKey;

    /// <summary>Gets the headers; empty when none were given.</summary>
    public IReadOnlyDictionary<string, object?> Headers => _envelope.Headers;

    /// <summary>Gets how many times the message has been delivered, this delivery included (1 on the first).</summary>
    public int DeliveryCount => _envelope.DeliveryCount;

    /// <summary>
    /// Gets whether the message was delivered before: a retry, or, over a broker, a redelivery after a consumer's
    /// connection dropped before its acknowledgement (RabbitMQ's redelivered flag). A consumer that is not idempotent
    /// checks it before repeating a side effect.
    /// </summary>
    public bool IsRedelivered => _envelope.DeliveryCount > 1;

    /// <summary>
    /// Gets the services of this delivery: its DI scope when the consumer or a filter is scoped (the scope the consumer
    /// is resolved from), else the application's root services.
    /// </summary>
    public IServiceProvider Services { get; internal set; } = default!;

    /// <summary>Gets the token the consumer gets: cancelled when the stop's drain runs out, or at the consumer timeout.</summary>
    public CancellationToken CancellationToken { get; internal set; }

    /// <summary>Gets the name of the queue the message came from.</summary>
    public string Queue => _slot.Queue.Name;

    /// <summary>
    /// Gets which of the queue's competing consumers took the message, from 0 to <see cref="QueueOptions.Concurrency"/> - 1:
    /// for logs and tallies. In a partitioned queue it is also the partition.
    /// </summary>
    public int ConsumerIndex => _slot.Index;

    /// <summary>Publishes a message with this message's correlation id.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    public ValueTask PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default) =>
        _slot.Bus.PublishCoreAsync(message, null, null, null, _envelope.CorrelationId, _slot, null, cancellationToken);

    /// <summary>Publishes a message with a routing key and this message's correlation id.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="routingKey">The routing key.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    public ValueTask PublishAsync<TMessage>(TMessage message, string routingKey, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        return _slot.Bus.PublishCoreAsync(message, null, routingKey, null, _envelope.CorrelationId, _slot, null, cancellationToken);
    }

    /// <summary>Publishes a message with options; the correlation id is this message's unless the options set one.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="options">Exchange, routing key, headers and other options.</param>
    /// <param name="cancellationToken">Cancels the publish.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    public ValueTask PublishAsync<TMessage>(TMessage message, PublishOptions? options, CancellationToken cancellationToken = default) =>
        _slot.Bus.PublishCoreAsync(message, options, null, null, _envelope.CorrelationId, _slot, null, cancellationToken);

    /// <summary>Sends a message to one queue, with this message's correlation id.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the queue has accepted the message.</returns>
    public ValueTask SendAsync<TMessage>(string queue, TMessage message, CancellationToken cancellationToken = default) =>
        SendAsync(queue, message, null, cancellationToken);

    /// <summary>Sends a message to one queue with options; the correlation id is this message's unless the options set one.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="message">The message.</param>
    /// <param name="options">Routing key, headers and other options; <see cref="PublishOptions.Exchange"/> must be null.</param>
    /// <param name="cancellationToken">Cancels the send.</param>
    /// <returns>A task that completes when the queue has accepted the message.</returns>
    public ValueTask SendAsync<TMessage>(string queue, TMessage message, PublishOptions? options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return _slot.Bus.PublishCoreAsync(message, options, null, queue, _envelope.CorrelationId, _slot, null, cancellationToken);
    }

    /// <summary>Gets a value indicating whether the message is a request that expects a response.</summary>
    public bool IsRequest => _envelope.Headers.ContainsKey(RequestHeaders.ReplyTo);

    /// <summary>
    /// Answers the request being consumed. The first response wins; a response that arrives after the requester stopped
    /// waiting is dropped and logged at debug.
    /// </summary>
    /// <typeparam name="TResponse">The response type the requester expects.</typeparam>
    /// <param name="response">The response.</param>
    /// <param name="cancellationToken">Cancels sending the response.</param>
    /// <returns>A task that completes when the response is handed over.</returns>
    /// <exception cref="InvalidOperationException">The message was not sent as a request.</exception>
    public ValueTask RespondAsync<TResponse>(TResponse response, CancellationToken cancellationToken = default)
    {
        if (!IsRequest)
        {
            throw new InvalidOperationException($"Message {MessageId} ({MessageType}) was not sent as a request; there is no one to respond to.");
        }

        BusTracing.Recording?.AddEvent(new(TelemetryTags.ReplyEvent));
        if (_slot.Bus.Broker is { } broker && RemoteReplyTo(_envelope) is { } replyTo)
        {
            return broker.ReplyAsync(replyTo, MessageId, response, typeof(TResponse), null, cancellationToken);
        }

        if (!_slot.Bus.Requests.TryRespond(MessageId, response))
        {
            Log.ResponseWithoutRequester(_slot.Bus.Logger, MessageId, MessageType);
        }

        return default;
    }

    /// <summary>
    /// Rejects the message (a poison message): once the consumer returns, it goes straight to the dead-letter store with
    /// reason <see cref="DeadLetterReason.Rejected"/>, without retries. Throwing <see cref="MessageRejectedException"/>
    /// does the same.
    /// </summary>
    /// <param name="reason">Why, for whoever reads the dead letter.</param>
    public void Reject(string reason)
    {
        ArgumentException.ThrowIfNullOrEmpty(reason);
        _rejection = reason;
    }

    /// <summary>Where a request that came through a broker wants its reply, or null for a request made in this process.</summary>
    internal static string? RemoteReplyTo(in Envelope envelope) =>
        envelope.Headers.TryGetValue(RequestHeaders.ReplyTo, out var value) && value is string replyTo && replyTo != RequestHeaders.InProcess ? replyTo : null;

    /// <summary>The rejection reason given for the current message, cleared as it is read.</summary>
    internal string? TakeRejection()
    {
        var rejection = _rejection;
        _rejection = null;
        return rejection;
    }

    private protected void SetEnvelope(in Envelope envelope)
    {
        _envelope = envelope;
        _rejection = null;
    }
}
