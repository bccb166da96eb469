using System.Diagnostics.CodeAnalysis;
namespace Bus;

/// <summary>
/// The bus's exchanges, queues and bindings, changeable while the bus runs (RabbitMQ's declare, bind, unbind and
/// delete). Changes take effect for the next publish; publishers never wait for them.
/// </summary>
public interface IBusTopology
{
    /// <summary>Gets the names of the declared exchanges.</summary>
    IReadOnlyCollection<string> Exchanges { get; }

    /// <summary>Gets the names of the declared queues.</summary>
    IReadOnlyCollection<string> Queues { get; }

    /// <summary>Gets the name of the exchange <typeparamref name="TMessage"/> is published to by default.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <returns>The exchange name.</returns>
    string GetExchangeName<TMessage>();

    /// <summary>Gets the bindings of an exchange.</summary>
    /// <param name="exchange">The exchange name.</param>
    /// <returns>A snapshot of its bindings.</returns>
    /// <exception cref="ArgumentException">No exchange of that name is declared.</exception>
    IReadOnlyList<Binding> GetBindings(string exchange);

    /// <summary>Declares an exchange of a built-in type. Declaring an existing exchange again with the same type does nothing.</summary>
    /// <param name="name">The exchange name.</param>
    /// <param name="type">The routing type.</param>
    /// <exception cref="InvalidOperationException">The exchange exists with another type.</exception>
    void DeclareExchange(string name, ExchangeType type);

    /// <summary>Declares an exchange with a routing strategy. Declaring an existing exchange again with the same strategy does nothing.</summary>
    /// <param name="name">The exchange name.</param>
    /// <param name="strategy">The routing strategy.</param>
    /// <exception cref="InvalidOperationException">The exchange exists with another strategy.</exception>
    void DeclareExchange(string name, IRoutingStrategy strategy);

    /// <summary>
    /// Declares a queue. Declaring an existing queue again with the same options does nothing. Messages wait in the
    /// queue until a consumer is added to it.
    /// </summary>
    /// <param name="name">The queue name.</param>
    /// <param name="options">The queue options; the defaults when null.</param>
    /// <exception cref="ArgumentException">The options are invalid.</exception>
    /// <exception cref="InvalidOperationException">The queue exists with other options.</exception>
    void DeclareQueue(string name, QueueOptions? options = null);

    /// <summary>
    /// Adds a consumer to a declared queue for every message type it consumes; its workers start at once. A batch consumer
    /// (<see cref="IBatchConsumer{TMessage}"/>) takes default <see cref="BatchOptions"/> and needs the queue to itself.
    /// </summary>
    /// <typeparam name="TConsumer">The consumer type. It need not be registered in the service collection.</typeparam>
    /// <param name="queue">The queue name.</param>
    /// <param name="lifetime">How consumer instances are created.</param>
    /// <param name="retryPolicy">The consumer's retry policy; null for the queue's.</param>
    /// <exception cref="ArgumentException">The queue is unknown, or the type implements no <see cref="IConsumer{TMessage}"/>.</exception>
    /// <exception cref="InvalidOperationException">The queue already has a consumer for one of the message types, or a batch consumer would share it.</exception>
    void AddConsumer<[DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>(string queue, ConsumerLifetime lifetime = ConsumerLifetime.Scoped, IRetryPolicy? retryPolicy = null)
        where TConsumer : class;

    /// <summary>Adds a binding.</summary>
    /// <param name="binding">The binding.</param>
    /// <returns><see langword="false"/> when an equal binding already existed.</returns>
    /// <exception cref="ArgumentException">The exchange or queue is unknown, or the exchange's strategy rejects the binding.</exception>
    bool Bind(Binding binding);

    /// <summary>Removes a binding equal to the one given.</summary>
    /// <param name="binding">The binding.</param>
    /// <returns><see langword="false"/> when no such binding existed.</returns>
    /// <exception cref="ArgumentException">The exchange is unknown.</exception>
    bool Unbind(Binding binding);

    /// <summary>
    /// Deletes a queue: it is unbound at once and refuses new messages, its consumers finish what it holds, then its
    /// workers stop. If <paramref name="cancellationToken"/> fires first, the consumers' tokens are cancelled; the messages
    /// left (and those waiting for a retry) are reported and dead-lettered with <see cref="DeadLetterReason.QueueDeleted"/>.
    /// </summary>
    /// <param name="name">The queue name.</param>
    /// <param name="cancellationToken">Ends the drain.</param>
    /// <returns>What was left unprocessed.</returns>
    /// <exception cref="ArgumentException">No queue of that name is declared.</exception>
    Task<DrainReport> DeleteQueueAsync(string name, CancellationToken cancellationToken = default);
}
