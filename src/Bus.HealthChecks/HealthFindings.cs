using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.HealthChecks;

/// <summary>
/// What one run of the check found: the reasons that fail the bus, the reasons that degrade it, and the figures behind
/// them (keys in <see cref="MessageBusHealthCheckData"/>). The worst reason decides the status; the description lists
/// every reason.
/// </summary>
internal sealed class HealthFindings
{
    private readonly List<string> _failures = [];
    private readonly List<string> _degradations = [];
    private readonly Dictionary<string, object> _data = new(StringComparer.Ordinal);

    public void Fail(string reason) => _failures.Add(reason);

    public void Degrade(string reason) => _degradations.Add(reason);

    public void Add(string key, object value) => _data[key] = value;

    /// <summary>Adds the depth and capacity of a queue the description names.</summary>
    public void AddQueue(QueueSnapshot queue)
    {
        _data[MessageBusHealthCheckData.QueueDepth(queue.Name)] = queue.Depth;
        _data[MessageBusHealthCheckData.QueueCapacity(queue.Name)] = queue.Capacity;
    }

    /// <summary>The result: <paramref name="failureStatus"/> on a failure, else degraded on a degradation, else healthy.</summary>
    public HealthCheckResult ToResult(HealthStatus failureStatus, string healthyDescription)
    {
        if (_failures.Count > 0)
        {
            return new HealthCheckResult(failureStatus, Join([.. _failures, .. _degradations]), data: _data);
        }

        return _degradations.Count > 0
            ? HealthCheckResult.Degraded(Join(_degradations), data: _data)
            : HealthCheckResult.Healthy(healthyDescription, _data);
    }

    private static string Join(List<string> reasons) => string.Join(" ", reasons);
}
