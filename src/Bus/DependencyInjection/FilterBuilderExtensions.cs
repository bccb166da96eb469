using System.Diagnostics.CodeAnalysis;
using Bus;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds publish and consume filters to the bus (see <see cref="IPublishFilter"/> and <see cref="IConsumeFilter"/>).</summary>
public static class FilterBuilderExtensions
{
    /// <summary>
    /// Adds a filter around every delivery to every consumer, and registers it in the container with
    /// <paramref name="lifetime"/> (unless it is registered already). Bus-wide filters run outermost, in the order added;
    /// then each queue's, then each consumer's.
    /// </summary>
    /// <typeparam name="TFilter">An <see cref="IConsumeFilter"/>, an <see cref="IBatchConsumeFilter"/>, or both.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per message, from the message's DI scope.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddConsumeFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(this IMessageBusBuilder builder, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter));
        builder.Services.TryAdd(new ServiceDescriptor(typeof(TFilter), typeof(TFilter), lifetime));
        builder.Services.Configure<BusOptions>(options => options.ConsumeFilters.Add(registration));
        return builder;
    }

    /// <summary>
    /// Adds a filter around every publish and send, and registers it in the container with <paramref name="lifetime"/>
    /// (unless it is registered already). Publish filters run in the order added.
    /// </summary>
    /// <typeparam name="TFilter">The filter type.</typeparam>
    /// <param name="builder">The bus builder.</param>
    /// <param name="lifetime">Singleton: one instance. Scoped or transient: one per publish, from the publishing consumer's scope or a scope for the publish.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder AddPublishFilter<[DynamicallyAccessedMembers(Trimming.Filter)] TFilter>(this IMessageBusBuilder builder, ServiceLifetime lifetime = ServiceLifetime.Singleton)
        where TFilter : class, IPublishFilter
    {
        ArgumentNullException.ThrowIfNull(builder);
        var registration = FilterRegistration.Create<TFilter>(lifetime, nameof(TFilter));
        builder.Services.TryAdd(new ServiceDescriptor(typeof(TFilter), typeof(TFilter), lifetime));
        builder.Services.Configure<BusOptions>(options => options.PublishFilters.Add(registration));
        return builder;
    }
}
