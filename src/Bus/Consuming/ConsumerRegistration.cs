using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// One consumer type consuming one message type from one queue. Built once, by reflection, when the consumer is
/// attached to its queue; from then on messages reach the consumer through closed generic code only.
/// </summary>
internal abstract class ConsumerRegistration
{
    public abstract Type MessageType { get; }

    public abstract Type ConsumerType { get; }

    /// <summary>The consumer's retry policy, else its queue's, else the bus's.</summary>
    public IRetryPolicy RetryPolicy { get; private set; } = Bus.RetryPolicy.None;

    /// <summary>A handler for one worker: it owns a reusable context, so each worker needs its own.</summary>
    public abstract MessageHandler CreateHandler(QueueWorker worker);

    [UnconditionalSuppressMessage("AotAnalysis", "IL3050", Justification = "Consumers are closed over their message types at configuration time.")]
    public static ConsumerRegistration Create(Type consumerType, Type messageType, ConsumerLifetime lifetime, IRetryPolicy retryPolicy, IServiceProvider services)
    {
        var closed = typeof(ConsumerRegistration<,>).MakeGenericType(messageType, consumerType);
        var registration = (ConsumerRegistration)Activator.CreateInstance(closed, lifetime, services)!;
        registration.RetryPolicy = retryPolicy;
        return registration;
    }
}

/// <inheritdoc cref="ConsumerRegistration"/>
internal sealed class ConsumerRegistration<TMessage, TConsumer> : ConsumerRegistration
    where TConsumer : class, IConsumer<TMessage>
{
    private readonly Func<IServiceProvider, TConsumer> _resolve;
    private readonly IServiceScopeFactory _scopes;
    private readonly TConsumer? _singleton;

    public ConsumerRegistration(ConsumerLifetime lifetime, IServiceProvider services)
    {
        _scopes = services.GetRequiredService<IServiceScopeFactory>();

        // Consumers registered in the container come from it; others (attached at run time) are built by a factory
        // compiled once here.
        var isService = services.GetService<IServiceProviderIsService>()?.IsService(typeof(TConsumer)) ?? false;
        if (isService)
        {
            _resolve = static provider => provider.GetRequiredService<TConsumer>();
        }
        else
        {
            var factory = ActivatorUtilities.CreateFactory<TConsumer>([]);
            _resolve = provider => factory(provider, null);
        }

        if (lifetime == ConsumerLifetime.Singleton)
        {
            _singleton = _resolve(services);
        }
    }

    public override Type MessageType => typeof(TMessage);

    public override Type ConsumerType => typeof(TConsumer);

    public override MessageHandler CreateHandler(QueueWorker worker) =>
        new ConsumerHandler<TMessage, TConsumer>(this, new ConsumeContext<TMessage>(worker));

    public TConsumer? Singleton => _singleton;

    public AsyncServiceScope CreateScope() => _scopes.CreateAsyncScope();

    public TConsumer Resolve(IServiceProvider scopedServices) => _resolve(scopedServices);
}
