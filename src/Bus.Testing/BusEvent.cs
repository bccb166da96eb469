using System.Diagnostics;

namespace Bus.Testing;

/// <summary>One thing that happened to a message, in the order the harness saw it.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Envelope">The message with its id, headers and delivery count (for a retry, those of the next attempt).</param>
/// <param name="Queue">The queue, for consumption, failures, retries and dead letters; null for publishes, sends and publishes no queue took.</param>
/// <param name="ConsumerType">The consumer type, for consumption; null otherwise.</param>
/// <param name="Exception">The failure, for <see cref="BusEventKind.Faulted"/>; null otherwise.</param>
/// <param name="Delay">How long until the next attempt, for <see cref="BusEventKind.Retried"/>; null otherwise.</param>
/// <param name="DeadLetter">The dead letter with its reason, for <see cref="BusEventKind.DeadLettered"/>; null otherwise.</param>
[DebuggerDisplay("{Kind} {Envelope.MessageType.Name,nq} {Queue}")]
public sealed record BusEvent(
    BusEventKind Kind,
    Envelope Envelope,
    string? Queue = null,
    Type? ConsumerType = null,
    Exception? Exception = null,
    TimeSpan? Delay = null,
    DeadLetter? DeadLetter = null)
{
    /// <summary>Gets the message.</summary>
    public object Message => Envelope.Message;
}
