namespace Bus.HealthChecks;

/// <summary>
/// Options of the message bus health check registered by
/// <see cref="Microsoft.Extensions.DependencyInjection.MessageBusHealthChecksBuilderExtensions.AddMessageBus"/>. They
/// are named options, one set per check, under the check's name.
/// </summary>
/// <remarks>
/// The options are validated the first time the check runs, and when the host starts: a value out of range fails with
/// an <see cref="Microsoft.Extensions.Options.OptionsValidationException"/> naming the option.
/// </remarks>
public sealed class MessageBusHealthCheckOptions
{
    /// <summary>The default <see cref="SaturationThreshold"/>: 0.8, a queue at least 80% full.</summary>
    public const double DefaultSaturationThreshold = 0.8;

    /// <summary>The default <see cref="SaturationPeriod"/>: 30 seconds.</summary>
    public static readonly TimeSpan DefaultSaturationPeriod = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Gets or sets how full a queue must be, as a fraction of its capacity (depth / capacity), to count as saturated.
    /// </summary>
    /// <value>More than 0 and at most 1. The default is <see cref="DefaultSaturationThreshold"/> (0.8).</value>
    public double SaturationThreshold { get; set; } = DefaultSaturationThreshold;

    /// <summary>
    /// Gets or sets how long a queue must stay saturated before the check reports the bus degraded. The check sees a
    /// queue only when it runs: a queue seen below the threshold starts again from zero, and a dip between two runs
    /// goes unnoticed.
    /// </summary>
    /// <value>More than zero. The default is <see cref="DefaultSaturationPeriod"/> (30 seconds).</value>
    public TimeSpan SaturationPeriod { get; set; } = DefaultSaturationPeriod;

    /// <summary>
    /// Gets or sets how long the oldest message of a queue may have waited (since it was sent) before the check reports
    /// the bus degraded.
    /// </summary>
    /// <value>More than zero, or <see langword="null"/>. The default, <see langword="null"/>, turns this limit off.</value>
    public TimeSpan? MaxMessageAge { get; set; }

    /// <summary>
    /// Gets or sets how many messages the dead-letter store may hold before the check reports the bus degraded: more
    /// than this degrades it.
    /// </summary>
    /// <value>Zero or more, or <see langword="null"/>. The default, <see langword="null"/>, turns this limit off.</value>
    public int? MaxDeadLetters { get; set; }
}
