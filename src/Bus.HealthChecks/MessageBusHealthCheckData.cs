namespace Bus.HealthChecks;

/// <summary>
/// The keys of <see cref="Microsoft.Extensions.Diagnostics.HealthChecks.HealthCheckResult.Data"/> in the message bus
/// health check's result. <see cref="State"/>, <see cref="Uptime"/> and <see cref="DeadLetters"/> are always there; the
/// queue keys appear only for the queues the description names, with the figures that put them there.
/// </summary>
public static class MessageBusHealthCheckData
{
    /// <summary>The bus's <see cref="BusState"/>, as its name (a <see cref="string"/>).</summary>
    public const string State = "state";

    /// <summary>How long the bus has been running (a <see cref="TimeSpan"/>).</summary>
    public const string Uptime = "uptime";

    /// <summary>The number of messages in the dead-letter store (an <see cref="int"/>).</summary>
    public const string DeadLetters = "dead_letters";

    /// <summary>The key of a named queue's depth, <c>queue:{name}:depth</c> (an <see cref="int"/>).</summary>
    /// <param name="queue">The queue name.</param>
    /// <returns>The key.</returns>
    public static string QueueDepth(string queue) => Queue(queue, "depth");

    /// <summary>The key of a named queue's capacity, <c>queue:{name}:capacity</c> (an <see cref="int"/>).</summary>
    /// <param name="queue">The queue name.</param>
    /// <returns>The key.</returns>
    public static string QueueCapacity(string queue) => Queue(queue, "capacity");

    /// <summary>
    /// The key of how long a named queue has been seen saturated, <c>queue:{name}:saturated_for</c> (a
    /// <see cref="TimeSpan"/>); present when that degraded the bus.
    /// </summary>
    /// <param name="queue">The queue name.</param>
    /// <returns>The key.</returns>
    public static string QueueSaturatedFor(string queue) => Queue(queue, "saturated_for");

    /// <summary>
    /// The key of the age of a named queue's oldest message, <c>queue:{name}:oldest_message_age</c> (a
    /// <see cref="TimeSpan"/>); present when it is over the limit.
    /// </summary>
    /// <param name="queue">The queue name.</param>
    /// <returns>The key.</returns>
    public static string QueueOldestMessageAge(string queue) => Queue(queue, "oldest_message_age");

    /// <summary>
    /// The key of a named queue's reader faults, <c>queue:{name}:reader_faults</c> (an <see cref="int"/>); present when
    /// above zero.
    /// </summary>
    /// <param name="queue">The queue name.</param>
    /// <returns>The key.</returns>
    public static string QueueReaderFaults(string queue) => Queue(queue, "reader_faults");

    private static string Queue(string queue, string figure)
    {
        ArgumentNullException.ThrowIfNull(queue);
        return $"queue:{queue}:{figure}";
    }
}
