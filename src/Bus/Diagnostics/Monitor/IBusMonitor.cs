namespace Bus;

/// <summary>
/// Reads the bus as a dashboard, a health check or a status endpoint shows it: every queue's figures, every exchange and
/// its bindings, the bus's state and uptime. Resolve it from the container.
/// </summary>
/// <remarks>
/// A snapshot costs one pass over the queues and exchanges and takes no lock a publisher or consumer waits on. Each
/// queue's counters come from one moment (see <see cref="QueueSnapshot"/>); different queues are read one after the
/// other. Rates are measured between reads of the monitor: read it every few seconds (a dashboard or a health check
/// does) for rates over the last minute.
/// </remarks>
public interface IBusMonitor
{
    /// <summary>Reads the bus now.</summary>
    /// <returns>The snapshot.</returns>
    BusSnapshot GetSnapshot();
}
