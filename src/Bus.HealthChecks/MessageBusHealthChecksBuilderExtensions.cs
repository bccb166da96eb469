using Bus;
using Bus.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Adds the message bus health check to a health checks builder.</summary>
public static class MessageBusHealthChecksBuilderExtensions
{
    /// <summary>The default name of the check: <c>bus</c>.</summary>
    public const string DefaultName = "bus";

    /// <summary>
    /// Adds a health check of the bus registered by <c>services.AddMessageBus(...)</c>. It reports the bus unhealthy (or
    /// <paramref name="failureStatus"/>) when the bus is not running or a queue's reader died, degraded when a queue
    /// stays saturated, holds messages too old or the dead-letter store is over its limit, and healthy otherwise.
    /// </summary>
    /// <param name="builder">The health checks builder.</param>
    /// <param name="configure">Sets the check's limits; <see langword="null"/> keeps the defaults.</param>
    /// <param name="name">The check's name, also the name of its <see cref="MessageBusHealthCheckOptions"/>.</param>
    /// <param name="failureStatus">
    /// The status reported when the bus fails; <see langword="null"/> (the default) reports
    /// <see cref="HealthStatus.Unhealthy"/>.
    /// </param>
    /// <param name="tags">Tags to filter checks by, for example in <c>MapHealthChecks</c>.</param>
    /// <returns>The builder, for chaining.</returns>
    /// <remarks>
    /// The check reads the bus through <see cref="IBusMonitor"/> and its time from the container's
    /// <see cref="TimeProvider"/>. It is a singleton per name, since it remembers between runs how long each queue has
    /// been saturated. Options out of range fail when the host starts, or the first time the check runs, with an
    /// <see cref="OptionsValidationException"/>.
    /// </remarks>
    public static IHealthChecksBuilder AddMessageBus(
        this IHealthChecksBuilder builder,
        Action<MessageBusHealthCheckOptions>? configure = null,
        string name = DefaultName,
        HealthStatus? failureStatus = null,
        IEnumerable<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var options = builder.Services.AddOptions<MessageBusHealthCheckOptions>(name);
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        builder.Services.TryAddEnumerable(
            ServiceDescriptor.Singleton<IValidateOptions<MessageBusHealthCheckOptions>, MessageBusHealthCheckOptionsValidator>());
        builder.Services.AddKeyedSingleton(name, static (provider, key) => new MessageBusHealthCheck(
            (string)key!,
            provider.GetRequiredService<IBusMonitor>(),
            provider.GetService<TimeProvider>() ?? TimeProvider.System,
            provider.GetRequiredService<IOptionsMonitor<MessageBusHealthCheckOptions>>()));
        return builder.Add(new HealthCheckRegistration(
            name,
            provider => provider.GetRequiredKeyedService<MessageBusHealthCheck>(name),
            failureStatus,
            tags));
    }
}
