namespace Bus;

/// <summary>
/// A dead-letter store that can hand one dead letter to a replay and remove it only once the replay succeeded (a
/// broker's dead-letter queue: read without an ack, ack after). A replay from any other store removes the dead letter
/// first and puts it back if the replay fails.
/// </summary>
internal interface ITransactionalDeadLetterStore
{
    /// <summary>Finds a dead letter, runs <paramref name="replay"/> on it, and removes it only when that completes.</summary>
    /// <returns><see langword="false"/> when there is no dead letter with that id.</returns>
    Task<bool> ReplayAsync(Guid id, Func<DeadLetter, Task> replay, CancellationToken cancellationToken);
}
