namespace Bus;

/// <summary>
/// Implemented by a storage that wakes sleeping consumers one at a time (<see cref="InMemoryRingQueue"/>): the queue's
/// workers tell it when they are taking messages, so that it wakes a sleeping consumer only when no consumer is.
/// </summary>
/// <remarks>
/// A worker that is taking messages takes every message there is before it sleeps again, so waking another one for a
/// new message only adds a consumer that finds nothing, or one that competes for the same messages from another core.
/// On a machine with fewer cores than consumers that competition costs more than it brings: this is how a queue with
/// four competing consumers keeps the throughput of a queue with one. A worker stops counting as taking while it sleeps
/// and while a consumer it started runs asynchronously; work that stays synchronous for long is covered by the
/// storage's own stall check.
/// </remarks>
internal interface IConsumerPresence
{
    /// <summary>A worker begins taking messages: when it starts, after a wait, after an asynchronous delivery.</summary>
    void Resume();

    /// <summary>
    /// A worker stops taking messages: before it waits for some, when it stops, or when a delivery it started goes
    /// asynchronous; in that last case <paramref name="shareOut"/> wakes a sleeping consumer for the messages waiting.
    /// </summary>
    void Pause(bool shareOut);

    /// <summary>Wakes a sleeping consumer when messages wait, no consumer is taking them and none is on its way.</summary>
    void ShareOut();
}
