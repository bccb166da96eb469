using System.Diagnostics.CodeAnalysis;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// Creates consumer instances: the one singleton, or one per DI scope. Consumers registered in the container come from
/// it; others (attached at run time) are built by a factory compiled once.
/// </summary>
internal sealed class ConsumerActivator<[DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>
    where TConsumer : class
{
    private readonly Func<IServiceProvider, TConsumer> _resolve;
    private readonly IServiceScopeFactory _scopes;

    public ConsumerActivator(ConsumerLifetime lifetime, IServiceProvider services)
    {
        _scopes = services.GetRequiredService<IServiceScopeFactory>();
        var isService = services.GetService<IServiceProviderIsService>()?.IsService(typeof(TConsumer)) ?? false;
        if (isService)
        {
            _resolve = static provider => provider.GetRequiredService<TConsumer>();
        }
        else
        {
            _resolve = Factory.Create;
        }

        if (lifetime == ConsumerLifetime.Singleton)
        {
            Singleton = _resolve(services);
        }
    }

    public TConsumer? Singleton { get; }

    /// <summary>
    /// A DI scope for one message. When the container is being disposed under a running bus (a host disposed without a
    /// stop), the consumer never ran: <see cref="ServicesDisposedException"/> tells the slot to report the message as
    /// unprocessed instead of failing it.
    /// </summary>
    public AsyncServiceScope CreateScopeForMessage()
    {
        try
        {
            return _scopes.CreateAsyncScope();
        }
        catch (ObjectDisposedException exception)
        {
            throw new ServicesDisposedException(exception);
        }
    }

    public TConsumer Resolve(IServiceProvider scopedServices) => _resolve(scopedServices);

    /// <summary>
    /// Builds consumers that are not registered in the container, with their dependencies injected: compiled once per
    /// consumer type, however many queues it consumes (a factory costs far more to build than to call). Built on first
    /// use rather than in a static initializer, so that a type it cannot build (no usable constructor) fails with
    /// ActivatorUtilities' own exception, not a <see cref="TypeInitializationException"/> around it.
    /// </summary>
    private static class Factory
    {
        // Two threads may both build it on first use; either factory is as good, and the last one written is kept.
        private static ObjectFactory<TConsumer>? s_factory;

        public static TConsumer Create(IServiceProvider provider) =>
            (s_factory ??= ActivatorUtilities.CreateFactory<TConsumer>([]))(provider, null);
    }
}
