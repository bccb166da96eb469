using System.Reflection;

namespace Bus.HealthChecks.Tests.Support;

/// <summary>
/// Wraps the bus's <see cref="IBusMonitor"/> and reports reader faults on one queue. A reader fault is a failure of the
/// bus itself, which no public API can cause, so the test sets the snapshot's init-only
/// <see cref="QueueSnapshot.ReaderFaults"/> (each snapshot is a fresh object, never shared).
/// </summary>
internal sealed class ReaderFaultMonitor(IBusMonitor inner, string queue, int faults) : IBusMonitor
{
    private static readonly PropertyInfo ReaderFaults = typeof(QueueSnapshot).GetProperty(nameof(QueueSnapshot.ReaderFaults))!;

    /// <summary>Replaces the container's monitor with one that reports <paramref name="faults"/> on <paramref name="queue"/>.</summary>
    public static void Install(IServiceCollection services, string queue, int faults)
    {
        var registered = services.Single(d => d.ServiceType == typeof(IBusMonitor));
        services.Remove(registered);
        services.AddSingleton<IBusMonitor>(provider => new ReaderFaultMonitor((IBusMonitor)registered.ImplementationFactory!(provider), queue, faults));
    }

    public BusSnapshot GetSnapshot()
    {
        var snapshot = inner.GetSnapshot();
        ReaderFaults.SetValue(snapshot.GetQueue(queue), faults);
        return snapshot;
    }
}
