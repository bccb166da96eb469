using System.Globalization;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bus.HealthChecks;

/// <summary>
/// The health check of the bus. One instance per registration, a singleton, because it remembers between runs since
/// when each queue has been saturated; a lock keeps concurrent runs from mixing their snapshots in that memory.
/// </summary>
internal sealed class MessageBusHealthCheck(
    string name,
    IBusMonitor monitor,
    TimeProvider time,
    IOptionsMonitor<MessageBusHealthCheckOptions> options) : IHealthCheck
{
    private readonly Lock _lock = new();
    private readonly SaturationTracker _saturation = new();

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var settings = options.Get(name);
        BusSnapshot snapshot;
        IReadOnlyDictionary<string, TimeSpan> saturated;
        lock (_lock)
        {
            snapshot = monitor.GetSnapshot();
            saturated = _saturation.Observe(snapshot.Queues, settings.SaturationThreshold, time);
        }

        var findings = MessageBusHealthRules.Evaluate(snapshot, saturated, settings);
        var queues = snapshot.Queues.Count;
        var healthy = queues switch
        {
            0 => "The bus is running; it has no queues.",
            1 => "The bus is running; its queue is within limits.",
            _ => string.Create(CultureInfo.InvariantCulture, $"The bus is running; its {queues} queues are within limits."),
        };
        return Task.FromResult(findings.ToResult(context.Registration.FailureStatus, healthy));
    }
}
