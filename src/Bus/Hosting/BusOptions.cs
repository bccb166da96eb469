using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>Options of the bus as a whole. The topology is configured through <c>AddMessageBus</c>'s builder.</summary>
public sealed class BusOptions
{
    /// <summary>The default <see cref="StopTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultStopTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets whether each delivery runs inside a logging scope carrying its message id, correlation id, message
    /// type and queue, so a consumer's own log lines carry them. A scope costs whenever logging is configured, even at
    /// levels that log nothing: with a host's default providers, about 200 bytes and two async-local writes per
    /// delivery. Turn it off when that matters more than the context.
    /// </summary>
    /// <value>The default is <see langword="true"/>. Without logging configured, no scope is ever begun.</value>
    public bool LogScopes { get; set; } = true;

    internal List<FilterRegistration> ConsumeFilters { get; } = [];

    internal List<FilterRegistration> PublishFilters { get; } = [];

    /// <summary>
    /// Adds a filter around every delivery to every consumer (an <see cref="IConsumeFilter"/>, an
    /// <see cref="IBatchConsumeFilter"/>, or both). Bus-wide filters run outermost, in the order added. The bus builder's
    /// <c>AddConsumeFilter</c> also registers the filter in the container.
    /// </summary>
    /// <typeparam name="TFilter">The filter type; taken from the container when registered there, else created with its dependencies injected.</typeparam>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per message, from the message's DI scope.</param>
    /// <returns>These options, for chaining.</returns>
    public BusOptions AddConsumeFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class
    {
        ConsumeFilters.Add(FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter)));
        return this;
    }

    /// <summary>
    /// Adds an <see cref="IPublishFilter"/> around every publish and send, in the order added. The bus builder's
    /// <c>AddPublishFilter</c> also registers the filter in the container.
    /// </summary>
    /// <typeparam name="TFilter">The filter type; taken from the container when registered there, else created with its dependencies injected.</typeparam>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per publish, from the publishing consumer's scope or a scope for the publish.</param>
    /// <returns>These options, for chaining.</returns>
    public BusOptions AddPublishFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class, IPublishFilter
    {
        PublishFilters.Add(FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter)));
        return this;
    }

    /// <summary>The default <see cref="MaxMessageSize"/>: 4 MiB.</summary>
    public const int DefaultMaxMessageSize = 4 * 1024 * 1024;

    /// <summary>
    /// Gets or sets the largest serialized message a transport that serializes sends or accepts, in bytes: a larger one
    /// is refused at publish (an <see cref="ArgumentException"/>) and dead-lettered at receive
    /// (<see cref="DeadLetterReason.TooLarge"/>). The in-memory transport does not serialize, so it does not apply there.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxMessageSize"/> (4 MiB).</value>
    public int MaxMessageSize { get; set; } = DefaultMaxMessageSize;

    /// <summary>The default <see cref="RoutingCacheSize"/>.</summary>
    public const int DefaultRoutingCacheSize = 10_000;

    /// <summary>
    /// Gets or sets how long a stop waits for queued and in-flight messages to be processed before it cancels the
    /// consumers' tokens and reports what is left.
    /// </summary>
    /// <value>Zero or more, or <see cref="Timeout.InfiniteTimeSpan"/>. The default is <see cref="DefaultStopTimeout"/>.</value>
    public TimeSpan StopTimeout { get; set; } = DefaultStopTimeout;

    /// <summary>
    /// Gets or sets how many routing keys each topic exchange remembers the matching queues of. Keys beyond the limit
    /// are matched through the exchange's trie on every publish, which is still independent of the number of bindings.
    /// </summary>
    /// <value>Zero or more. The default is <see cref="DefaultRoutingCacheSize"/> (10,000).</value>
    public int RoutingCacheSize { get; set; } = DefaultRoutingCacheSize;

    /// <summary>The default <see cref="DeadLetterCapacity"/>.</summary>
    public const int DefaultDeadLetterCapacity = 10_000;

    /// <summary>The default <see cref="ScheduledCapacity"/>.</summary>
    public const int DefaultScheduledCapacity = 100_000;

    /// <summary>
    /// Gets or sets how many dead letters the in-memory store keeps; at the limit the oldest is evicted (counted and
    /// logged).
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultDeadLetterCapacity"/> (10,000).</value>
    public int DeadLetterCapacity { get; set; } = DefaultDeadLetterCapacity;

    /// <summary>
    /// Gets or sets how many messages may wait at once for a delayed retry. A failed message that would exceed it is
    /// dead-lettered with <see cref="DeadLetterReason.Overflow"/>.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultScheduledCapacity"/> (100,000).</value>
    public int ScheduledCapacity { get; set; } = DefaultScheduledCapacity;

    /// <summary>Gets or sets the retry policy of queues and consumers that set none.</summary>
    /// <value>The default is <see cref="Bus.RetryPolicy.None"/>: a failure is dead-lettered at once.</value>
    public IRetryPolicy RetryPolicy { get; set; } = Bus.RetryPolicy.None;

    /// <summary>The default <see cref="MaxPendingRequests"/>.</summary>
    public const int DefaultMaxPendingRequests = 10_000;

    /// <summary>The default <see cref="DefaultRequestTimeout"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultDefaultRequestTimeout = TimeSpan.FromSeconds(30);

    /// <summary>Gets or sets how long a request waits for its response when the caller names no timeout.</summary>
    /// <value>More than zero, or <see cref="Timeout.InfiniteTimeSpan"/>. The default is 30 seconds.</value>
    public TimeSpan DefaultRequestTimeout { get; set; } = DefaultDefaultRequestTimeout;

    /// <summary>
    /// Gets or sets how many requests may wait for responses at once. A request beyond it fails at once with an
    /// <see cref="InvalidOperationException"/> and is not sent.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxPendingRequests"/> (10,000).</value>
    public int MaxPendingRequests { get; set; } = DefaultMaxPendingRequests;

    /// <summary>
    /// Gets or sets how the default topology is named: the exchange of each message type and the own queue of each
    /// consumer added without a queue name. Names given explicitly are never rewritten.
    /// </summary>
    /// <value>
    /// The default is <see cref="BusNamingConvention.FullName"/>, the type's full name; <see cref="BusNamingConvention.KebabCase"/>
    /// gives <c>shop.payments.payment-service</c>.
    /// </value>
    public BusNamingConvention NamingConvention { get; set; } = BusNamingConvention.FullName;

    internal TopologyDefinition Topology { get; } = new();

    /// <summary>
    /// Gets or sets how a transport that leaves the process (RabbitMQ) turns messages into bytes and back. The
    /// in-memory transport passes messages by reference and never uses it.
    /// </summary>
    /// <value>
    /// The default (null) is <see cref="SystemTextJsonMessageSerializer"/> with reflection-based metadata, where the
    /// application allows it; trimmed and native AOT applications (which turn reflection-based JSON off) set a
    /// <see cref="SystemTextJsonMessageSerializer"/> over their source-generated <see cref="System.Text.Json.Serialization.JsonSerializerContext"/>,
    /// or the bus does not start on such a transport.
    /// </value>
    public IMessageSerializer? Serializer { get; set; }

    internal List<Type> MessageTypes { get; } = [];

    /// <summary>
    /// Declares a message type this process receives from a transport that leaves the process without consuming it in
    /// a queue of its own (a message only published here needs no declaration). A name that arrives from outside is
    /// resolved only against consumed and declared types, never loaded: anything else is dead-lettered as
    /// <see cref="DeadLetterReason.UnknownMessageType"/>.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <returns>These options, for chaining.</returns>
    public BusOptions AddMessageType<TMessage>()
    {
        if (!MessageTypes.Contains(typeof(TMessage)))
        {
            MessageTypes.Add(typeof(TMessage));
        }

        return this;
    }
}
