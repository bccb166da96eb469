namespace Bus;

/// <summary>
/// A transport over a broker that routes (<see cref="TransportFeatures.OwnsRouting"/>): the bus declares its exchanges,
/// queues and bindings there, publishes to it instead of routing in process, and consumes what the broker delivers to
/// its queues. Retry policy, time to live, deduplication and the dead-letter decision stay the bus's, decided once for
/// every transport; the broker's consumers only hand deliveries over and settle them as the bus says.
/// </summary>
/// <remarks>
/// A queue's lanes stay in process (<see cref="LeasedBuffer"/>, as many as prefetched): the broker's consumer hands each
/// delivery to its queue (<see cref="IDeliveryTarget"/>), which counts it in and places it in a lane by its partition
/// key, so readers, consumer slots and settlement are the same code as in memory.
/// </remarks>
internal interface IBrokerTransport : IMessageTransport
{
    /// <summary>Lists what the broker cannot do of a queue's options, naming the queue and the option (checked at start with every other problem).</summary>
    void CheckQueue(string name, QueueOptions options, List<string> errors);

    /// <summary>Lists what the broker cannot do of an exchange (a routing strategy it does not have).</summary>
    void CheckExchange(string name, IRoutingStrategy strategy, List<string> errors);

    /// <summary>Connects, and declares the bus's topology as it is at the start; called before any reader starts.</summary>
    /// <param name="context">The bus's topology, codec and request table.</param>
    /// <param name="cancellationToken">Ends the attempt.</param>
    /// <returns>A task that completes when the broker has the topology.</returns>
    Task StartAsync(BrokerContext context, CancellationToken cancellationToken);

    /// <summary>Declares an exchange the bus created after the start (a message type first published); idempotent. A strategy the broker does not have (a user's own) is refused by name.</summary>
    void DeclareExchange(string name, IRoutingStrategy strategy);

    /// <summary>Declares a queue declared after the start; idempotent.</summary>
    void DeclareQueue(string name, QueueOptions options);

    /// <summary>Adds a binding made after the start.</summary>
    void Bind(Binding binding);

    /// <summary>Removes a binding.</summary>
    void Unbind(Binding binding);

    /// <summary>
    /// Deletes a queue the bus deleted, once the bus collected what it held and the queue's bindings are gone: the
    /// messages still in the broker (in the queue and its retries' wait queues) are handed to <paramref name="left"/>
    /// one at a time, and each is acknowledged only after that completes, so none is lost; then the queues are deleted.
    /// </summary>
    /// <param name="name">The queue.</param>
    /// <param name="left">Reports and dead-letters one message that was still in the broker.</param>
    /// <param name="cancellationToken">Ends the deletion.</param>
    /// <returns>A task that completes when the queue is deleted.</returns>
    Task DeleteQueueAsync(string name, Func<Envelope, Task> left, CancellationToken cancellationToken);

    /// <summary>
    /// Publishes a message and completes when the broker has confirmed it. A send (<paramref name="queue"/> set) goes to
    /// that queue and fails when there is no such queue; a mandatory publish fails when no queue is bound for it
    /// (<see cref="UnroutableMessageException"/>); a full queue that rejects fails with <see cref="QueueFullException"/>.
    /// </summary>
    /// <param name="envelope">The stamped message.</param>
    /// <param name="queue">The queue of a send, or null for a publish to <see cref="Envelope.Exchange"/>.</param>
    /// <param name="flags">Mandatory, request.</param>
    /// <param name="cancellationToken">Ends the wait: the outcome is then unknown (the broker may still take it).</param>
    /// <returns>A task that completes on the confirm.</returns>
    ValueTask PublishAsync(Envelope envelope, string? queue, BrokerPublishFlags flags, CancellationToken cancellationToken);

    /// <summary>Starts consuming a queue: deliveries go to <paramref name="target"/> until the consumer is stopped.</summary>
    IBrokerConsumer Consume(string queue, QueueOptions options, IDeliveryTarget target);

    /// <summary>
    /// Sends the next attempt of a failed message to wait in the broker for <paramref name="delay"/>, then return to
    /// <paramref name="queue"/> (<see cref="TransportFeatures.DurableDelays"/>); completes when the broker has it.
    /// </summary>
    ValueTask ForwardRetryAsync(string queue, Envelope next, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Answers a request that came through the broker: a response, or (with <paramref name="fault"/>) why there is none.</summary>
    /// <param name="replyTo">The request's reply address.</param>
    /// <param name="requestId">The request's message id: the response's correlation id.</param>
    /// <param name="response">The response, or null with a fault.</param>
    /// <param name="responseType">The response's type.</param>
    /// <param name="fault">Why the request has no response (it was dead-lettered), or null.</param>
    /// <param name="cancellationToken">Ends the wait for the broker.</param>
    /// <returns>A task that completes when the broker has the reply.</returns>
    ValueTask ReplyAsync(string replyTo, Guid requestId, object? response, Type responseType, string? fault, CancellationToken cancellationToken);

    /// <summary>
    /// Counts a queue's messages waiting in the broker: ready in the queue and in its retries' wait queues (not those
    /// delivered to a consumer and not yet settled). For a test harness that waits until a bus over a broker is done.
    /// </summary>
    /// <param name="queue">The queue.</param>
    /// <param name="cancellationToken">Ends the wait for the broker.</param>
    /// <returns>How many messages wait.</returns>
    ValueTask<long> CountWaitingAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Closes the connections cleanly, once every queue was collected and the report stored.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
