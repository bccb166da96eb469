using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// One consumer type consuming one message type from one queue. Built once, by reflection, when the consumer is
/// attached to its queue; from then on messages reach the consumer through closed generic code only.
/// </summary>
internal abstract class ConsumerRegistration
{
    public abstract Type MessageType { get; }

    public abstract Type ConsumerType { get; }

    /// <summary>Whether the consumer takes batches (<see cref="IBatchConsumer{TMessage}"/>), and so has its queue to itself.</summary>
    public virtual bool IsBatch => false;

    /// <summary>The consumer's retry policy, else its queue's, else the bus's.</summary>
    public IRetryPolicy RetryPolicy { get; private set; } = Bus.RetryPolicy.None;

    /// <summary>The consume filters around this consumer: the bus's, the queue's, then the consumer's own.</summary>
    public FilterRegistration[] Filters { get; private set; } = [];

    /// <summary>The application's root services, which singleton consumers come from.</summary>
    public IServiceProvider RootServices => FilterInstances.Root;

    /// <summary>The bus's filter instances.</summary>
    public FilterInstances FilterInstances { get; private set; } = default!;

    /// <summary>A handler for one worker: it owns a reusable context, so each worker needs its own.</summary>
    public abstract MessageHandler CreateHandler(ConsumerSlot slot);

    /// <summary>
    /// Closes the registration over a consumer and a message type found by reflection, once, at configuration. Native
    /// AOT shares the code of generic types over reference types, so this works there for message types that are
    /// classes or records; a struct message type needs code compiled ahead for it (see docs/performance.md).
    /// </summary>
    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "Consumers are closed over their message types at configuration time; reference-type instantiations share code under native AOT.")]
    [UnconditionalSuppressMessage("Trimming", "IL2071", Justification = Trimming.ConsumerTypesAreKept)]
    [UnconditionalSuppressMessage("Trimming", "IL2070", Justification = Trimming.ConsumerTypesAreKept + " (the .NET 8 analyzer's code for the same finding)")]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(ConsumerRegistration<,>))]
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors, typeof(BatchConsumerRegistration<,>))]
    public static ConsumerRegistration Create(Type consumerType, Type messageType, ConsumerLifetime lifetime, IRetryPolicy retryPolicy, BatchOptions? batch, FilterRegistration[] filters, FilterInstances instances)
    {
        ConsumerRegistration registration;
        if (ConsumerTypes.IsBatchConsumer(consumerType))
        {
            var closed = typeof(BatchConsumerRegistration<,>).MakeGenericType(messageType, consumerType);
            registration = Create(closed, lifetime, batch?.Clone() ?? new BatchOptions(), instances.Root);
        }
        else
        {
            var closed = typeof(ConsumerRegistration<,>).MakeGenericType(messageType, consumerType);
            registration = Create(closed, lifetime, instances.Root);
        }

        registration.RetryPolicy = retryPolicy;
        registration.Filters = filters;
        registration.FilterInstances = instances;
        return registration;
    }

    /// <summary>
    /// Creates a closed registration without wrapping what its constructor throws (a singleton consumer whose own
    /// constructor fails): the caller sees the real exception, not a <see cref="System.Reflection.TargetInvocationException"/>.
    /// </summary>
    [UnconditionalSuppressMessage("Trimming", "IL2067", Justification = "The constructors of both registration types are kept by the DynamicDependency attributes of the public Create.")]
    private static ConsumerRegistration Create(Type closed, params object[] arguments) =>
        (ConsumerRegistration)Activator.CreateInstance(closed, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.DoNotWrapExceptions, null, arguments, null)!;
}

/// <inheritdoc cref="ConsumerRegistration"/>
internal sealed class ConsumerRegistration<TMessage, [DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>(ConsumerLifetime lifetime, IServiceProvider services) : ConsumerRegistration
    where TConsumer : class, IConsumer<TMessage>
{
    public override Type MessageType => typeof(TMessage);

    public override Type ConsumerType => typeof(TConsumer);

    public ConsumerActivator<TConsumer> Activator { get; } = new(lifetime, services);

    public override MessageHandler CreateHandler(ConsumerSlot slot) =>
        new ConsumerHandler<TMessage, TConsumer>(this, new ConsumeContext<TMessage>(slot));
}
