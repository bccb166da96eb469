using System.Text.Json.Serialization;

namespace Bus;

/// <summary>Why a message ended in the dead-letter store instead of being consumed.</summary>
/// <remarks>In JSON, its name (<c>"MaxRetriesExceeded"</c>), not its number.</remarks>
[JsonConverter(typeof(JsonStringEnumConverter<DeadLetterReason>))]
public enum DeadLetterReason
{
    /// <summary>The consumer failed and the retry policy allowed no further attempt.</summary>
    MaxRetriesExceeded,

    /// <summary>The consumer failed with an exception the retry policy does not retry.</summary>
    NotRetryable,

    /// <summary>The consumer rejected the message (<see cref="ConsumeContext.Reject"/> or <see cref="MessageRejectedException"/>).</summary>
    Rejected,

    /// <summary>The message's time to live ran out before it could be delivered.</summary>
    Expired,

    /// <summary>The queue was full and dropped the message, or the retry schedule was full.</summary>
    Overflow,

    /// <summary>The consumer did not finish within the queue's <see cref="QueueOptions.ConsumerTimeout"/>, and no retry was left.</summary>
    ConsumerTimeout,

    /// <summary>The queue had no consumer for the message's type.</summary>
    NoConsumer,

    /// <summary>The bus stopped before the message could be processed.</summary>
    BusStopped,

    /// <summary>The queue was deleted before the message could be processed.</summary>
    QueueDeleted,

    /// <summary>
    /// The consumer failed and the retry policy allows no retries at all (<see cref="RetryPolicy.None"/>, the default):
    /// the message was not retried because none were configured, rather than because they ran out.
    /// </summary>
    Failed,

    /// <summary>The exchange's routing strategy threw while a scheduled message that came due was being routed.</summary>
    RoutingFailed,

    /// <summary>A message arrived from a transport under a type name the bus does not know (see <see cref="MessageTypeNames"/>); it was not deserialized.</summary>
    UnknownMessageType,

    /// <summary>A message arrived from a transport with a body its serializer could not read as its type.</summary>
    Malformed,

    /// <summary>A message arrived from a transport with a body larger than <see cref="BusOptions.MaxMessageSize"/>.</summary>
    TooLarge,
}
