using System.Diagnostics.CodeAnalysis;
using System.Diagnostics;

namespace Bus;

/// <summary>A batch consumer type consuming one message type from its own queue.</summary>
internal abstract class BatchConsumerRegistration : ConsumerRegistration
{
    public override bool IsBatch => true;

    public abstract BatchOptions Batch { get; }

    public override MessageHandler CreateHandler(ConsumerSlot slot) =>
        throw new UnreachableException("A batch consumer's queue is consumed by batch slots only.");

    /// <summary>A handler for one batch slot: it owns a reusable batch, so each slot needs its own.</summary>
    public abstract BatchHandler CreateBatchHandler(BusQueue queue);
}

/// <inheritdoc cref="BatchConsumerRegistration"/>
internal sealed class BatchConsumerRegistration<TMessage, [DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>(ConsumerLifetime lifetime, BatchOptions batch, IServiceProvider services) : BatchConsumerRegistration
    where TConsumer : class, IBatchConsumer<TMessage>
{
    private readonly ConsumerActivator<TConsumer> _activator = new(lifetime, services);

    public override Type MessageType => typeof(TMessage);

    public override Type ConsumerType => typeof(TConsumer);

    public override BatchOptions Batch => batch;

    public override BatchHandler CreateBatchHandler(BusQueue queue) =>
        new BatchHandler<TMessage, TConsumer>(_activator, queue.Name, batch.MaxSize, RetryPolicy, Filters, FilterInstances);
}
