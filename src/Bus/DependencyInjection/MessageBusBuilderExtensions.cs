using System.Diagnostics.CodeAnalysis;
using Bus;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Configures the bus's consumers and topology. Problems are reported together when the bus starts.</summary>
public static class MessageBusBuilderExtensions
{
    /// <summary>
    /// Adds a consumer for every <see cref="IConsumer{TMessage}"/> the type implements. By default it gets its own
    /// queue, named after the type, bound to each message type's exchange, so two consumers of one message each get
    /// every message. The type is registered in the service collection unless it already is.
    /// </summary>
    /// <typeparam name="TConsumer">The consumer type.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <param name="configure">Sets the queue, lifetime, queue options and bindings.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddConsumer<[DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>(this IMessageBusBuilder builder, Action<ConsumerOptions>? configure = null)
        where TConsumer : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = new ConsumerOptions();
        configure?.Invoke(options);
        var lifetime = options.Lifetime == ConsumerLifetime.Singleton ? ServiceLifetime.Singleton : ServiceLifetime.Scoped;

        // A registration made by AddConsumers gives way to this one, whose lifetime was chosen for this type.
        ScannedConsumers.Release(builder.Services, typeof(TConsumer));
        builder.Services.TryAdd(new ServiceDescriptor(typeof(TConsumer), typeof(TConsumer), lifetime));
        return builder.Configure(topology => topology.Consumers.Add(new ConsumerDefinition(typeof(TConsumer), options)));
    }

    /// <summary>
    /// Replaces a consumer added with <see cref="AddConsumer{TConsumer}"/> by another that consumes the same message
    /// types from the same queue, with the same options: a stub or fake that isolates one service in a test. Call it
    /// after the consumer was added. The replacement comes from the service collection when it is registered there (an
    /// instance the test holds, say), and is otherwise created with its dependencies injected.
    /// </summary>
    /// <typeparam name="TConsumer">The consumer type to replace.</typeparam>
    /// <typeparam name="TReplacement">The consumer type that takes its place.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="InvalidOperationException">At start: <typeparamref name="TConsumer"/> was never added.</exception>
    public static IMessageBusBuilder ReplaceConsumer<[DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer, [DynamicallyAccessedMembers(Trimming.Consumer)] TReplacement>(this IMessageBusBuilder builder)
        where TConsumer : class
        where TReplacement : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Configure(topology =>
        {
            // The one added explicitly, if it was also found by AddConsumers.
            var index = topology.Consumers.FindIndex(c => c.ConsumerType == typeof(TConsumer) && !c.Scanned);
            if (index < 0)
            {
                index = topology.Consumers.FindIndex(c => c.ConsumerType == typeof(TConsumer));
            }

            if (index < 0)
            {
                throw new InvalidOperationException($"Consumer {typeof(TConsumer)} cannot be replaced by {typeof(TReplacement)}: it was never added with AddConsumer.");
            }

            // The replacement reads the replaced consumer's queue (named after the replaced type unless named
            // explicitly), with its bindings, so routing does not change.
            var replaced = topology.Consumers[index];
            topology.Consumers[index] = new ConsumerDefinition(typeof(TReplacement), replaced.Options, Replaces: replaced.Replaces ?? typeof(TConsumer));
            topology.ReplacedConsumers.Add(typeof(TConsumer));
        });
    }

    /// <summary>Declares an exchange of a built-in routing type.</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="name">The exchange name.</param>
    /// <param name="type">The routing type.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddExchange(this IMessageBusBuilder builder, string name, ExchangeType type)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, $"{type} is not an {nameof(ExchangeType)}.");
        }

        return builder.AddExchange(name, RoutingStrategies.For(type));
    }

    /// <summary>Declares an exchange that routes with a strategy of your own.</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="name">The exchange name.</param>
    /// <param name="strategy">The routing strategy.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddExchange(this IMessageBusBuilder builder, string name, IRoutingStrategy strategy)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(strategy);
        return builder.Configure(topology => topology.Exchanges.Add(new ExchangeDefinition(name, strategy)));
    }

    /// <summary>
    /// Declares a named queue, for competing consumers (<see cref="QueueOptions.Concurrency"/>), point-to-point sends
    /// and explicit bindings.
    /// </summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="name">The queue name.</param>
    /// <param name="configure">Sets the queue options.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddQueue(this IMessageBusBuilder builder, string name, Action<QueueOptions>? configure = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var options = new QueueOptions();
        configure?.Invoke(options);
        return builder.Configure(topology => topology.Queues.Add(new QueueDefinition(name, options)));
    }

    /// <summary>Binds a queue to an exchange with a binding key (a pattern on topic exchanges).</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="exchange">The exchange name.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="routingKey">The binding key; ignored by fanout exchanges.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder Bind(this IMessageBusBuilder builder, string exchange, string queue, string routingKey = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(exchange);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(routingKey);
        return builder.Configure(topology => topology.Bindings.Add(new BindingDefinition(exchange, null, queue, routingKey, null)));
    }

    /// <summary>Binds a queue to a headers exchange with arguments matched against message headers.</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="exchange">The exchange name.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="arguments">The binding arguments; <c>x-match</c> is <c>all</c> (the default) or <c>any</c>.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder Bind(this IMessageBusBuilder builder, string exchange, string queue, IReadOnlyDictionary<string, object?> arguments)
    {
        ArgumentException.ThrowIfNullOrEmpty(exchange);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(arguments);
        return builder.Configure(topology => topology.Bindings.Add(new BindingDefinition(exchange, null, queue, string.Empty, arguments)));
    }

    /// <summary>Binds a queue to the exchange <typeparamref name="TMessage"/> is published to.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="routingKey">The binding key; ignored by fanout exchanges.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder Bind<TMessage>(this IMessageBusBuilder builder, string queue, string routingKey = "")
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(routingKey);
        return builder.Configure(topology => topology.Bindings.Add(new BindingDefinition(null, typeof(TMessage), queue, routingKey, null)));
    }

    /// <summary>
    /// Publishes <typeparamref name="TMessage"/> to a declared exchange instead of its own fanout exchange; consumers of
    /// the type bind their queues there.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <param name="exchange">The exchange name.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder MapMessage<TMessage>(this IMessageBusBuilder builder, string exchange)
    {
        ArgumentException.ThrowIfNullOrEmpty(exchange);
        return builder.Configure(topology => topology.MessageExchanges.Add(new MessageExchangeDefinition(typeof(TMessage), exchange)));
    }

    /// <summary>Configures the bus options.</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="configure">Sets the options.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder Configure(this IMessageBusBuilder builder, Action<BusOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        builder.Services.Configure(configure);
        return builder;
    }

    private static IMessageBusBuilder Configure(this IMessageBusBuilder builder, Action<TopologyDefinition> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.Configure<BusOptions>(options => configure(options.Topology));
        return builder;
    }
}
