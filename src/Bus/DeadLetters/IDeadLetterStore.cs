namespace Bus;

/// <summary>
/// Where messages that could not be consumed are kept, with their reason, to be inspected, replayed
/// (<see cref="IMessageBus.ReplayAsync(Guid, string?, CancellationToken)"/>) or purged. Registered in DI; replace it
/// to keep dead letters elsewhere. The default keeps them in memory, bounded by <see cref="BusOptions.DeadLetterCapacity"/>.
/// </summary>
public interface IDeadLetterStore
{
    /// <summary>Gets the number of dead letters held.</summary>
    int Count { get; }

    /// <summary>
    /// Gets how many dead letters the store has dropped to stay within its own limit (the oldest first, in the default
    /// store); 0 for a store that never drops any.
    /// </summary>
    long Evicted => 0;

    /// <summary>Adds a dead letter. The bus considers the message ended once this completes.</summary>
    /// <param name="deadLetter">The dead letter.</param>
    /// <param name="cancellationToken">Cancels the add.</param>
    /// <returns>A task that completes when the dead letter is stored.</returns>
    ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default);

    /// <summary>Lists dead letters, oldest first.</summary>
    /// <param name="query">The criteria; null lists everything.</param>
    /// <param name="cancellationToken">Cancels the query.</param>
    /// <returns>The matching dead letters.</returns>
    ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default);

    /// <summary>Gets one dead letter.</summary>
    /// <param name="id">The dead letter's id.</param>
    /// <param name="cancellationToken">Cancels the lookup.</param>
    /// <returns>The dead letter, or null when there is none with that id.</returns>
    ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Removes one dead letter.</summary>
    /// <param name="id">The dead letter's id.</param>
    /// <param name="cancellationToken">Cancels the removal.</param>
    /// <returns><see langword="false"/> when there was none with that id.</returns>
    ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default);

    /// <summary>Removes every dead letter that matches.</summary>
    /// <param name="query">The criteria; null removes everything.</param>
    /// <param name="cancellationToken">Cancels the purge.</param>
    /// <returns>How many were removed.</returns>
    ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default);
}
