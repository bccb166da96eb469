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
    /// Waits until the bus is idle: every queue empty and no message in flight, so nothing is left to do now; messages
    /// waiting for a delayed retry do not count until they are due. Tests use it to know a message flow has finished
    /// without waiting on the clock.
    /// </summary>
    /// <param name="cancellationToken">Ends the wait.</param>
    /// <returns>A task that completes when the bus is idle.</returns>
    Task WaitForIdleAsync(CancellationToken cancellationToken = default);

    /// <summary>
    /// Sends a dead letter back to its queue (or another) as a first delivery, and removes it from the store. Its message
    /// id stays the same; its retry count starts again.
    /// </summary>
    /// <param name="deadLetterId">The dead letter's id.</param>
    /// <param name="queue">The queue to deliver to; null for the one it failed in.</param>
    /// <param name="cancellationToken">Cancels the wait for room in a full queue.</param>
    /// <returns><see langword="false"/> when there is no dead letter with that id.</returns>
    /// <exception cref="ArgumentException">The queue is not declared; the dead letter stays in the store.</exception>
    /// <exception cref="BusNotRunningException">The bus is not running.</exception>
    Task<bool> ReplayAsync(Guid deadLetterId, string? queue = null, CancellationToken cancellationToken = default);

    /// <summary>Replays every dead letter that matches (see <see cref="ReplayAsync(Guid, string?, CancellationToken)"/>).</summary>
    /// <param name="query">Which dead letters.</param>
    /// <param name="queue">The queue to deliver to; null for the one each failed in.</param>
    /// <param name="cancellationToken">Cancels the replay between messages.</param>
    /// <returns>How many were replayed.</returns>
    Task<int> ReplayAsync(DeadLetterQuery query, string? queue = null, CancellationToken cancellationToken = default);

    /// <summary>Lists the scheduled messages still waiting, earliest first.</summary>
    /// <returns>A snapshot.</returns>
    IReadOnlyList<ScheduledMessage> GetScheduledMessages();

    /// <summary>Cancels a scheduled message that is still waiting.</summary>
    /// <param name="messageId">The id <see cref="IPublisher.ScheduleAsync{TMessage}(TMessage, DateTimeOffset, PublishOptions?, CancellationToken)"/> returned.</param>
    /// <returns><see langword="false"/> when no such message waits (it was published, cancelled, or never scheduled).</returns>
    bool CancelScheduled(Guid messageId);

    /// <summary>Reads the bus's counters.</summary>
    /// <returns>The counters of the bus and of each queue.</returns>
    BusStatistics GetStatistics();
}
