namespace Bus;

/// <summary>Publishes messages to exchanges, and sends them to named queues.</summary>
/// <remarks>
/// A publish completes when every queue the message is routed to has accepted it. Called from inside a consumer, a
/// publish never waits for room in a full queue: see <see cref="QueueOptions.OverflowCapacity"/>.
/// </remarks>
public interface IPublisher
{
    /// <summary>Publishes a message to its message type's exchange.</summary>
    /// <typeparam name="TMessage">The message type; consumers of exactly this type receive it.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the publish, also while it waits for room in a full queue.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    /// <exception cref="QueueFullException">A queue in <see cref="QueueFullMode.Reject"/> mode was full.</exception>
    ValueTask PublishAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default);

    /// <summary>Publishes a message to its message type's exchange with a routing key.</summary>
    /// <typeparam name="TMessage">The message type; consumers of exactly this type receive it.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="routingKey">The routing key (at most 255 characters).</param>
    /// <param name="cancellationToken">Cancels the publish, also while it waits for room in a full queue.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="routingKey"/> is null.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    /// <exception cref="QueueFullException">A queue in <see cref="QueueFullMode.Reject"/> mode was full.</exception>
    ValueTask PublishAsync<TMessage>(TMessage message, string routingKey, CancellationToken cancellationToken = default);

    /// <summary>Publishes a message with options: a named exchange, routing key, headers, mandatory routing.</summary>
    /// <typeparam name="TMessage">The message type; consumers of exactly this type receive it.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="options">The publish options.</param>
    /// <param name="cancellationToken">Cancels the publish, also while it waits for room in a full queue.</param>
    /// <returns>A task that completes when every bound queue has accepted the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> is null.</exception>
    /// <exception cref="ArgumentException">The exchange is unknown, or a header is not a primitive value.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    /// <exception cref="UnroutableMessageException">The publish is mandatory and no queue is bound for it.</exception>
    /// <exception cref="QueueFullException">A queue in <see cref="QueueFullMode.Reject"/> mode was full.</exception>
    ValueTask PublishAsync<TMessage>(TMessage message, PublishOptions? options, CancellationToken cancellationToken = default);

    /// <summary>Sends a message to one named queue, bypassing exchanges (point-to-point).</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the send, also while it waits for room in a full queue.</param>
    /// <returns>A task that completes when the queue has accepted the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="queue"/> is null.</exception>
    /// <exception cref="ArgumentException">No queue of that name is declared.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    /// <exception cref="QueueFullException">The queue is in <see cref="QueueFullMode.Reject"/> mode and full.</exception>
    ValueTask SendAsync<TMessage>(string queue, TMessage message, CancellationToken cancellationToken = default);

    /// <summary>Sends a message to one named queue with options (routing key, headers, ids).</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="message">The message.</param>
    /// <param name="options">The options; <see cref="PublishOptions.Exchange"/> must be null.</param>
    /// <param name="cancellationToken">Cancels the send, also while it waits for room in a full queue.</param>
    /// <returns>A task that completes when the queue has accepted the message.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="message"/> or <paramref name="queue"/> is null.</exception>
    /// <exception cref="ArgumentException">No queue of that name is declared, or the options name an exchange.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    /// <exception cref="QueueFullException">The queue is in <see cref="QueueFullMode.Reject"/> mode and full.</exception>
    ValueTask SendAsync<TMessage>(string queue, TMessage message, PublishOptions? options, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a request and waits for its response, for at most <see cref="BusOptions.DefaultRequestTimeout"/>. The
    /// request is published like any message (to its type's exchange); the consumer answers with
    /// <see cref="ConsumeContext.RespondAsync{TResponse}(TResponse, CancellationToken)"/>; the first response wins.
    /// </summary>
    /// <typeparam name="TRequest">The request type.</typeparam>
    /// <typeparam name="TResponse">The response type.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Stops waiting; the request may still be processed.</param>
    /// <returns>The response.</returns>
    /// <exception cref="UnroutableMessageException">No queue is bound for the request: nobody could answer.</exception>
    /// <exception cref="RequestTimeoutException">No response arrived in time.</exception>
    /// <exception cref="RequestFaultException">The consumer failed, rejected the request, or responded with another type.</exception>
    /// <exception cref="InvalidOperationException">Too many requests are waiting (<see cref="BusOptions.MaxPendingRequests"/>).</exception>
    Task<TResponse> RequestAsync<TRequest, TResponse>(TRequest request, CancellationToken cancellationToken = default);

    /// <summary>Sends a request and waits for its response for at most <paramref name="timeout"/>.</summary>
    /// <typeparam name="TRequest">The request type.</typeparam>
    /// <typeparam name="TResponse">The response type.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="timeout">How long to wait for the response, measured with the bus's <see cref="TimeProvider"/>.</param>
    /// <param name="cancellationToken">Stops waiting; the request may still be processed.</param>
    /// <returns>The response.</returns>
    /// <exception cref="UnroutableMessageException">No queue is bound for the request: nobody could answer.</exception>
    /// <exception cref="RequestTimeoutException">No response arrived in time.</exception>
    /// <exception cref="RequestFaultException">The consumer failed, rejected the request, or responded with another type.</exception>
    /// <exception cref="InvalidOperationException">Too many requests are waiting (<see cref="BusOptions.MaxPendingRequests"/>).</exception>
    Task<TResponse> RequestAsync<TRequest, TResponse>(TRequest request, TimeSpan timeout, CancellationToken cancellationToken = default);

    /// <summary>
    /// Schedules a publish for a time: the message waits outside the queues and is routed through its exchange when due
    /// (with the bindings of that moment). Scheduled messages can be listed and cancelled
    /// (<see cref="IMessageBus.GetScheduledMessages"/>, <see cref="IMessageBus.CancelScheduled"/>); at stop those not
    /// yet due within the stop timeout are reported and dead-lettered.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="deliverAt">When to publish it, on the bus's <see cref="TimeProvider"/>; a past time publishes at once.</param>
    /// <param name="options">Exchange, routing key, headers, time to live and ids, as for a publish.</param>
    /// <param name="cancellationToken">Cancels the scheduling (not the scheduled message).</param>
    /// <returns>The message id, which identifies the schedule.</returns>
    /// <exception cref="InvalidOperationException">The schedule is full (<see cref="BusOptions.ScheduledCapacity"/>).</exception>
    Task<Guid> ScheduleAsync<TMessage>(TMessage message, DateTimeOffset deliverAt, PublishOptions? options = null, CancellationToken cancellationToken = default);

    /// <summary>Schedules a publish after a delay (see <see cref="ScheduleAsync{TMessage}(TMessage, DateTimeOffset, PublishOptions?, CancellationToken)"/>).</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="delay">How long from now.</param>
    /// <param name="options">Exchange, routing key, headers, time to live and ids, as for a publish.</param>
    /// <param name="cancellationToken">Cancels the scheduling (not the scheduled message).</param>
    /// <returns>The message id, which identifies the schedule.</returns>
    Task<Guid> ScheduleAsync<TMessage>(TMessage message, TimeSpan delay, PublishOptions? options = null, CancellationToken cancellationToken = default);
}
