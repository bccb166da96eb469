using System.Diagnostics;

namespace Bus;

/// <summary>
/// The names OpenTelemetry knows the bus by: subscribe with <c>AddSource(BusDiagnostics.SourceName)</c> and
/// <c>AddMeter(BusDiagnostics.MeterName)</c>.
/// </summary>
public static class BusDiagnostics
{
    /// <summary>The name of the bus's <see cref="ActivitySource"/>: <c>Bus</c>.</summary>
    public const string SourceName = "Bus";

    /// <summary>The name of the bus's <see cref="System.Diagnostics.Metrics.Meter"/>: <c>Bus</c>.</summary>
    public const string MeterName = "Bus";

    /// <summary>The value of <c>messaging.system</c> on every span and measurement: <c>bus</c>.</summary>
    public const string MessagingSystem = "bus";

    /// <summary>The one source of the bus's spans. Nothing is created or formatted while no listener samples it.</summary>
    internal static readonly ActivitySource Source = new(SourceName, typeof(BusDiagnostics).Assembly.GetName().Version?.ToString(3));
}
