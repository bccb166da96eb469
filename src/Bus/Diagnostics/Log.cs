using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>Every log line the bus writes, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Bus started with {QueueCount} queues and {ExchangeCount} exchanges")]
    public static partial void Started(ILogger logger, int queueCount, int exchangeCount);

    [LoggerMessage(2, LogLevel.Information, "Bus stopping: refusing new publishes, draining queued and in-flight messages for up to {Timeout}")]
    public static partial void Stopping(ILogger logger, TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Information, "Bus stopped; every accepted message was settled: {Consumed} consumed, {DeadLettered} dead-lettered")]
    public static partial void StoppedSettled(ILogger logger, long consumed, long deadLettered);

    [LoggerMessage(7, LogLevel.Information, "Bus stopping: refusing new publishes, draining queued and in-flight messages for up to {Timeout}, or less if the caller's token (a host's shutdown timeout) ends the stop first")]
    public static partial void StoppingWithinCallerLimit(ILogger logger, TimeSpan timeout);

    [LoggerMessage(8, LogLevel.Warning, "Bus disposed while running, without a stop: it stops at once without draining, and reports what it had not processed")]
    public static partial void DisposedWhileRunning(ILogger logger);

    [LoggerMessage(4, LogLevel.Warning, "Bus stopped before it could process {Count} accepted messages")]
    public static partial void StoppedWithUnprocessed(ILogger logger, int count);

    [LoggerMessage(5, LogLevel.Warning, "Queue {Queue}: {Count} messages were not processed")]
    public static partial void UnprocessedInQueue(ILogger logger, string queue, int count);

    [LoggerMessage(6, LogLevel.Information, "Queue {Queue} deleted; {Count} of its messages were not processed")]
    public static partial void QueueDeleted(ILogger logger, string queue, int count);

    [LoggerMessage(10, LogLevel.Debug, "No queue is bound for {MessageType} on exchange {Exchange} with routing key '{RoutingKey}'")]
    public static partial void Unroutable(ILogger logger, Type messageType, string exchange, string routingKey);

    [LoggerMessage(11, LogLevel.Warning, "Queue {Queue} is full and dropped message {MessageId} ({MessageType}) under {FullMode}")]
    public static partial void MessageDropped(ILogger logger, string queue, Guid messageId, Type messageType, QueueFullMode fullMode);

    [LoggerMessage(22, LogLevel.Warning, "Message {MessageId} ({MessageType}) failed attempt {Attempt} in queue {Queue}; retrying in {Delay}")]
    public static partial void RetryScheduled(ILogger logger, Exception exception, Guid messageId, Type messageType, int attempt, string queue, TimeSpan delay);

    [LoggerMessage(23, LogLevel.Error, "Message {MessageId} ({MessageType}) dead-lettered from queue {Queue}: {Reason}, {Description}")]
    public static partial void DeadLettered(ILogger logger, Exception? exception, Guid messageId, Type messageType, string queue, DeadLetterReason reason, string description);

    [LoggerMessage(24, LogLevel.Debug, "Message {MessageId} ({MessageType}) was consumed from queue {Queue} before; skipped as a duplicate")]
    public static partial void DuplicateSkipped(ILogger logger, Guid messageId, Type messageType, string queue);

    [LoggerMessage(25, LogLevel.Warning, "Consumer {Consumer} did not finish message {MessageId} from queue {Queue} within {Timeout}; its token is cancelled and the worker moved on")]
    public static partial void ConsumerTimedOut(ILogger logger, Type consumer, Guid messageId, string queue, TimeSpan timeout);

    [LoggerMessage(26, LogLevel.Information, "Dead letter {DeadLetterId} (message {MessageId}) replayed into queue {Queue}")]
    public static partial void Replayed(ILogger logger, Guid deadLetterId, Guid messageId, string queue);

    [LoggerMessage(28, LogLevel.Debug, "A response to request {RequestId} ({RequestType}) arrived after its requester stopped waiting; dropped")]
    public static partial void ResponseWithoutRequester(ILogger logger, Guid requestId, Type requestType);

    [LoggerMessage(29, LogLevel.Critical, "Ending the delivery of message {MessageId} ({MessageType}) in queue {Queue} failed inside the bus; the message is kept and reported when the bus stops (or, at the stop, only reported)")]
    public static partial void DeliveryBroke(ILogger logger, Exception exception, Guid messageId, Type messageType, string queue);

    [LoggerMessage(30, LogLevel.Warning, "Scheduled message {MessageId} ({MessageType}) came due but no queue is bound for it on exchange {Exchange} with routing key '{RoutingKey}'")]
    public static partial void ScheduledUnroutable(ILogger logger, Guid messageId, Type messageType, string exchange, string routingKey);

    [LoggerMessage(27, LogLevel.Warning, "The dead-letter store is full ({Capacity}); evicted the oldest, message {MessageId} from queue {Queue} ({Reason})")]
    public static partial void DeadLetterEvicted(ILogger logger, Guid messageId, string queue, DeadLetterReason reason, int capacity);

    [LoggerMessage(31, LogLevel.Error, "Bus observer {Observer} threw in {Method}; the bus carries on")]
    public static partial void ObserverFailed(ILogger logger, Exception exception, Type observer, string method);

    [LoggerMessage(33, LogLevel.Critical, "A reader of queue {Lane} failed inside the bus; the queue's other readers and its stop are unaffected")]
    public static partial void ReaderBroke(ILogger logger, Exception exception, string lane);

    [LoggerMessage(34, LogLevel.Error, "Settling a delivery of queue {Lane} as {Outcome} with its transport failed; the bus's own outcome stands")]
    public static partial void LeaseSettlementFailed(ILogger logger, Exception exception, string lane, DeliveryOutcome outcome);

    [LoggerMessage(35, LogLevel.Critical, "Queue {Queue}: a consumer slot was still settling {Limit} after the stop took over (the application's dead-letter store, retry policy or an observer did not return); the messages it holds are missing from the report")]
    public static partial void QueueNotQuiet(ILogger logger, string queue, TimeSpan limit);

    [LoggerMessage(40, LogLevel.Warning, "{ConsumerType} implements {Contracts} and is registered in the service collection, but is not added to the bus, so it receives no messages. Add it with AddConsumer<{ConsumerName}>() (or AddConsumers), or attach it at run time with IBusTopology.AddConsumer")]
    public static partial void ConsumerNotAdded(ILogger logger, Type consumerType, string contracts, string consumerName);

    [LoggerMessage(41, LogLevel.Warning, "No queue is bound for {MessageType} on exchange {Exchange}: no consumer is registered for it (AddConsumer<TConsumer>() with a class that implements IConsumer<{MessageName}>). The message was dropped; later ones of this type on this exchange are logged at Debug (event 10)")]
    public static partial void NoConsumerForMessage(ILogger logger, Type messageType, string exchange, string messageName);

    [LoggerMessage(42, LogLevel.Warning, "No binding of exchange {Exchange} matches {MessageType} with routing key '{RoutingKey}'. The message was dropped; later ones of this type on this exchange are logged at Debug (event 10)")]
    public static partial void NoBindingForMessage(ILogger logger, Type messageType, string exchange, string routingKey);

    [LoggerMessage(43, LogLevel.Information, "Unroutable messages of {Count} (exchange, message type) pairs have been warned about, the most remembered; unroutable messages of further pairs are logged at Debug only (event 10)")]
    public static partial void UnroutableWarningsFull(ILogger logger, int count);

    [LoggerMessage(32, LogLevel.Error, "The partition key selector of queue {Queue} threw for message {MessageId} ({MessageType}); it is placed by message id, out of key order")]
    public static partial void PartitionKeyFailed(ILogger logger, Exception exception, Guid messageId, Type messageType, string queue);

    [LoggerMessage(44, LogLevel.Debug, "Message {MessageId} ({MessageType}) of queue {Queue} was given back to the broker, which delivers it again")]
    public static partial void DeliveryReturned(ILogger logger, Guid messageId, Type messageType, string queue);

    [LoggerMessage(45, LogLevel.Warning, "The broker did not take the delayed retry of message {MessageId} ({MessageType}) of queue {Queue}; it is retried at once instead, its delivery still held")]
    public static partial void RetryForwardFailed(ILogger logger, Exception exception, Guid messageId, Type messageType, string queue);

    [LoggerMessage(46, LogLevel.Error, "Answering request {RequestId} through the broker failed; the requester times out")]
    public static partial void ReplyFailed(ILogger logger, Exception exception, Guid requestId);

    [LoggerMessage(47, LogLevel.Critical, "Scheduled message {MessageId} ({MessageType}) came due and the broker did not take it; it is dead-lettered here")]
    public static partial void ScheduledPublishFailed(ILogger logger, Exception exception, Guid messageId, Type messageType);

    [LoggerMessage(48, LogLevel.Warning, "Stopping the broker's consumers or closing its connections failed; unacknowledged deliveries return to the broker when the connection closes")]
    public static partial void BrokerStopFailed(ILogger logger, Exception exception);
}
