using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>Options of one queue.</summary>
public sealed class QueueOptions
{
    /// <summary>The default <see cref="Capacity"/>.</summary>
    public const int DefaultCapacity = 1024;

    /// <summary>The default <see cref="Concurrency"/>: one consumer at a time, which keeps messages in order.</summary>
    public const int DefaultConcurrency = 1;

    /// <summary>The default <see cref="PrefetchCount"/>.</summary>
    public const int DefaultPrefetchCount = 1;

    /// <summary>Gets or sets how many messages the queue holds before <see cref="FullMode"/> applies.</summary>
    /// <value>At least 1. The default is <see cref="DefaultCapacity"/> (1024).</value>
    public int Capacity { get; set; } = DefaultCapacity;

    /// <summary>Gets or sets what happens to a publish when the queue is full.</summary>
    /// <value>The default is <see cref="QueueFullMode.Wait"/>.</value>
    public QueueFullMode FullMode { get; set; } = QueueFullMode.Wait;

    /// <summary>Gets or sets how many messages of this queue are consumed at the same time (competing consumers).</summary>
    /// <value>At least 1. The default is <see cref="DefaultConcurrency"/> (1), which processes messages in order.</value>
    public int Concurrency { get; set; } = DefaultConcurrency;

    /// <summary>
    /// Gets or sets how many messages each consumer takes off the queue at once, processing them in order: a larger
    /// prefetch frees queue capacity sooner but lets one busy consumer hold messages another could have taken.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultPrefetchCount"/> (1).</value>
    public int PrefetchCount { get; set; } = DefaultPrefetchCount;

    /// <summary>
    /// Gets or sets how many messages published from inside consumers may wait beside a full queue in
    /// <see cref="QueueFullMode.Wait"/> mode. A consumer never waits for room (it could be waiting for itself, directly or
    /// through a cycle of queues); its message is parked here, and consumers take parked messages before those waiting in the queue. When this overflow
    /// is full too, the publish fails with a <see cref="QueueFullException"/>.
    /// </summary>
    /// <value>At least 0; <see langword="null"/> (the default) means the same as <see cref="Capacity"/>.</value>
    public int? OverflowCapacity { get; set; }

    /// <summary>Gets or sets the retry policy of this queue's consumers that set none.</summary>
    /// <value>The default, <see langword="null"/>, is <see cref="BusOptions.RetryPolicy"/>.</value>
    public IRetryPolicy? RetryPolicy { get; set; }

    /// <summary>
    /// Gets or sets how long a message may wait in this queue: one older than this when its turn comes is not delivered
    /// but dead-lettered with <see cref="DeadLetterReason.Expired"/>. A message's own time to live
    /// (<see cref="PublishOptions.TimeToLive"/>) applies too; the shorter wins, as in RabbitMQ.
    /// </summary>
    /// <value>The default, <see langword="null"/>, lets messages wait indefinitely.</value>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>
    /// Gets or sets how long a consumer may take over one message. When it runs out, the consumer's token is cancelled,
    /// the worker stops waiting for it and moves on, and the delivery counts as a failure (retried, or dead-lettered
    /// with <see cref="DeadLetterReason.ConsumerTimeout"/>). A consumer that blocks its thread cannot be interrupted;
    /// the limit applies to consumers that await.
    /// </summary>
    /// <value>The default, <see langword="null"/>, sets no limit.</value>
    public TimeSpan? ConsumerTimeout { get; set; }

    /// <summary>
    /// Gets or sets how many recently consumed message ids the queue remembers to skip duplicates: a message whose id
    /// was consumed already (re-published, or replayed after it succeeded) is acknowledged without calling the consumer.
    /// The oldest ids are forgotten first. Failed deliveries are not remembered, so retries and replays of failures run.
    /// </summary>
    /// <value>Zero or more. The default, 0, turns deduplication off.</value>
    public int DeduplicationCapacity { get; set; }

    /// <summary>
    /// Gets or sets the highest message priority this queue orders by, as RabbitMQ's <c>x-max-priority</c>: among the
    /// messages waiting in the queue, one with a higher <see cref="PublishOptions.Priority"/> is always taken first, and
    /// messages of equal priority are taken in the order they arrived. A priority above this counts as this.
    /// </summary>
    /// <value>0 to 255; the default, 0, ignores priorities (first in, first out). RabbitMQ advises at most 10.</value>
    public int MaxPriority { get; set; }

    /// <summary>
    /// Gets whether the queue has partition keys (see <see cref="PartitionBy{TMessage, TKey}"/>); with a
    /// <see cref="Concurrency"/> of 1 it still has a single partition.
    /// </summary>
    public bool IsPartitioned => _partitionKeys.Count > 0;

    internal IReadOnlyList<PartitionKey> PartitionKeys => _partitionKeys;

    private List<PartitionKey> _partitionKeys = [];

    /// <summary>
    /// Partitions the queue by a key of <typeparamref name="TMessage"/>, as Kafka partitions a topic: the queue gets one
    /// partition per consumer (<see cref="Concurrency"/>), each message goes to the partition its key hashes to, so
    /// messages with the same key are consumed one at a time in the order they were published, and different keys in
    /// parallel. Messages of types without a key are spread over the partitions by message id, in no particular order.
    /// </summary>
    /// <typeparam name="TMessage">The message type the key belongs to.</typeparam>
    /// <typeparam name="TKey">The key type; keys are compared with its default equality.</typeparam>
    /// <param name="keySelector">
    /// Picks the key of a message, for example its order id. It must be fast and should not throw: a message whose key
    /// cannot be read is logged (event 32) and placed by message id, out of key order, rather than lost.
    /// </param>
    /// <returns>These options, for chaining.</returns>
    public QueueOptions PartitionBy<TMessage, TKey>(Func<TMessage, TKey> keySelector)
    {
        ArgumentNullException.ThrowIfNull(keySelector);
        _partitionKeys.Add(new PartitionKey<TMessage, TKey>(keySelector));
        return this;
    }

    internal List<FilterRegistration> ConsumeFilters { get; private set; } = [];

    /// <summary>
    /// Adds a filter around every delivery from this queue (an <see cref="IConsumeFilter"/>, an
    /// <see cref="IBatchConsumeFilter"/>, or both). Queue filters run after the bus-wide ones and before the consumer's,
    /// in the order added.
    /// </summary>
    /// <typeparam name="TFilter">The filter type; taken from the container when registered there, else created with its dependencies injected.</typeparam>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per message, from the message's DI scope.</param>
    /// <returns>These options, for chaining.</returns>
    public QueueOptions AddConsumeFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class
    {
        ConsumeFilters.Add(FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter)));
        return this;
    }

    internal int EffectiveOverflowCapacity => OverflowCapacity ?? Capacity;

    /// <summary>How many lanes the queue has: a partition per consumer, or one lane its consumers share.</summary>
    internal int LaneCount => IsPartitioned ? Concurrency : 1;

    internal QueueOptions Clone()
    {
        var clone = (QueueOptions)MemberwiseClone();
        clone._partitionKeys = [.. _partitionKeys];
        clone.ConsumeFilters = [.. ConsumeFilters];
        return clone;
    }

    internal void Validate(string queue, List<string> errors)
    {
        if (Capacity < 1)
        {
            errors.Add($"Queue '{queue}': Capacity is {Capacity}; it must be at least 1.");
        }

        if (Concurrency < 1)
        {
            errors.Add($"Queue '{queue}': Concurrency is {Concurrency}; it must be at least 1.");
        }

        if (PrefetchCount < 1)
        {
            errors.Add($"Queue '{queue}': PrefetchCount is {PrefetchCount}; it must be at least 1.");
        }

        if (OverflowCapacity < 0)
        {
            errors.Add($"Queue '{queue}': OverflowCapacity is {OverflowCapacity}; it must be at least 0.");
        }

        if (TimeToLive is { } ttl && (ttl <= TimeSpan.Zero || ttl > Envelope.MaxTimeToLive))
        {
            errors.Add($"Queue '{queue}': TimeToLive is {ttl}; it must be more than zero and at most {Envelope.MaxTimeToLive}.");
        }

        if (ConsumerTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Queue '{queue}': ConsumerTimeout is {ConsumerTimeout}; it must be more than zero.");
        }

        if (DeduplicationCapacity < 0)
        {
            errors.Add($"Queue '{queue}': DeduplicationCapacity is {DeduplicationCapacity}; it must be at least 0.");
        }

        if (MaxPriority is < 0 or > 255)
        {
            errors.Add($"Queue '{queue}': MaxPriority is {MaxPriority}; it must be from 0 to 255.");
        }

        for (var i = 0; i < _partitionKeys.Count; i++)
        {
            for (var j = 0; j < i; j++)
            {
                if (_partitionKeys[j].MessageType == _partitionKeys[i].MessageType)
                {
                    errors.Add($"Queue '{queue}': PartitionBy is given twice for {_partitionKeys[i].MessageType}; a message type has one key.");
                }
            }
        }

        if (!Enum.IsDefined(FullMode))
        {
            errors.Add($"Queue '{queue}': FullMode {(int)FullMode} is not a {nameof(QueueFullMode)}.");
        }
    }

    internal bool SameAs(QueueOptions other) =>
        Capacity == other.Capacity
        && FullMode == other.FullMode
        && Concurrency == other.Concurrency
        && PrefetchCount == other.PrefetchCount
        && OverflowCapacity == other.OverflowCapacity
        && RetryPolicy == other.RetryPolicy
        && TimeToLive == other.TimeToLive
        && ConsumerTimeout == other.ConsumerTimeout
        && DeduplicationCapacity == other.DeduplicationCapacity
        && MaxPriority == other.MaxPriority
        && _partitionKeys.Select(k => k.MessageType).SequenceEqual(other._partitionKeys.Select(k => k.MessageType));
}
