using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>How one consumer type is attached to the bus.</summary>
public sealed class ConsumerOptions
{
    /// <summary>
    /// Gets or sets the queue the consumer reads. A queue declared with <c>AddQueue</c> is read as declared, its
    /// bindings declared separately (several consumer types may share it, one per message type). Any other name
    /// becomes the consumer's own queue, created with <see cref="QueueOptions"/> and bound to the exchange of every
    /// message type the consumer consumes.
    /// </summary>
    /// <value>
    /// The default, <see langword="null"/>, is an own queue named by <see cref="BusOptions.NamingConvention"/>: the
    /// consumer type's full name, unless the convention is changed. A name given here is used as given.
    /// </value>
    public string? Queue { get; set; }

    /// <summary>Gets or sets how consumer instances are created.</summary>
    /// <value>The default is <see cref="ConsumerLifetime.Scoped"/>: a DI scope and a new consumer per message.</value>
    public ConsumerLifetime Lifetime { get; set; } = ConsumerLifetime.Scoped;

    /// <summary>Gets or sets this consumer's retry policy.</summary>
    /// <value>The default, <see langword="null"/>, is its queue's, or else the bus's.</value>
    public IRetryPolicy? RetryPolicy { get; set; }

    /// <summary>
    /// Gets how batches are formed when the consumer is an <see cref="IBatchConsumer{TMessage}"/> (ignored otherwise).
    /// </summary>
    public BatchOptions Batch { get; } = new();

    /// <summary>Gets the options of the consumer's own queue (ignored when it reads a declared queue).</summary>
    public QueueOptions QueueOptions { get; } = new();

    internal List<MessageBinding> Bindings { get; } = [];

    internal List<FilterRegistration> ConsumeFilters { get; } = [];

    /// <summary>
    /// Adds a filter around every delivery to this consumer (an <see cref="IConsumeFilter"/>, an
    /// <see cref="IBatchConsumeFilter"/>, or both). Consumer filters run innermost: after the bus-wide and the queue's,
    /// in the order added.
    /// </summary>
    /// <typeparam name="TFilter">The filter type; taken from the container when registered there, else created with its dependencies injected.</typeparam>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per message, from the message's DI scope.</param>
    /// <returns>These options, for chaining.</returns>
    public ConsumerOptions AddConsumeFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class
    {
        ConsumeFilters.Add(FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter)));
        return this;
    }

    /// <summary>
    /// Binds the consumer's queue to <typeparamref name="TMessage"/>'s exchange with a key (a pattern on topic
    /// exchanges), instead of the default binding that takes everything the exchange carries. Call it once per key.
    /// </summary>
    /// <typeparam name="TMessage">A message type the consumer consumes.</typeparam>
    /// <param name="routingKey">The binding key.</param>
    /// <returns>These options, for chaining.</returns>
    public ConsumerOptions Bind<TMessage>(string routingKey)
    {
        ArgumentNullException.ThrowIfNull(routingKey);
        Bindings.Add(new MessageBinding(typeof(TMessage), routingKey, null));
        return this;
    }

    /// <summary>
    /// Binds the consumer's queue to <typeparamref name="TMessage"/>'s headers exchange with arguments to match
    /// against message headers (<c>x-match</c>: <c>all</c> or <c>any</c>).
    /// </summary>
    /// <typeparam name="TMessage">A message type the consumer consumes.</typeparam>
    /// <param name="arguments">The binding arguments.</param>
    /// <returns>These options, for chaining.</returns>
    public ConsumerOptions Bind<TMessage>(IReadOnlyDictionary<string, object?> arguments)
    {
        ArgumentNullException.ThrowIfNull(arguments);
        Bindings.Add(new MessageBinding(typeof(TMessage), string.Empty, arguments));
        return this;
    }
}

/// <summary>A binding of a consumer's queue to a message type's exchange.</summary>
internal sealed record MessageBinding(Type MessageType, string RoutingKey, IReadOnlyDictionary<string, object?>? Arguments);
