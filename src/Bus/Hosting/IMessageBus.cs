namespace Bus;

/// <summary>
/// The bus: publishing, its lifecycle and its topology. Registered by <c>AddMessageBus</c>; a generic host starts and
/// stops it, and code without a host can call <see cref="StartAsync"/> and <see cref="StopAsync"/> itself.
/// </summary>
public interface IMessageBus : IPublisher, IAsyncDisposable, IDisposable
{
    /// <summary>Gets the lifecycle state.</summary>
    BusState State { get; }

    /// <summary>Gets the exchanges, queues and bindings, which can be changed while the bus runs.</summary>
    IBusTopology Topology { get; }

    /// <summary>Starts the consumers. Starting a running bus does nothing.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the bus is running.</returns>
    /// <exception cref="InvalidOperationException">The bus was stopped; a stopped bus cannot be started again.</exception>
    Task StartAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Stops the bus: refuses new publishes (consumers finishing their work may still publish), waits up to
    /// <see cref="BusOptions.StopTimeout"/> for queued and in-flight messages to be processed, then cancels the
    /// consumers' tokens. Whatever was not processed is logged and returned. Calling it again returns the same report.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait for consumers early; what is left is reported.</param>
    /// <returns>What became of the messages the bus had accepted.</returns>
    Task<DrainReport> StopAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Waits until the bus is idle: every queue empty, no message in flight. Tests use it to know a message flow has
    /// finished without waiting on the clock.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>A task that completes when the bus is idle.</returns>
    Task WaitForIdleAsync(CancellationToken cancellationToken = default);

    /// <summary>Reads the bus's counters.</summary>
    /// <returns>The counters of the bus and of each queue.</returns>
    BusStatistics GetStatistics();
}
