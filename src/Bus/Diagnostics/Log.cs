using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>Every log line the bus writes, with stable event ids.</summary>
internal static partial class Log
{
    [LoggerMessage(1, LogLevel.Information, "Bus started with {QueueCount} queues and {ExchangeCount} exchanges")]
    public static partial void Started(ILogger logger, int queueCount, int exchangeCount);

    [LoggerMessage(2, LogLevel.Information, "Bus stopping: refusing new publishes, draining queued and in-flight messages for up to {Timeout}")]
    public static partial void Stopping(ILogger logger, TimeSpan timeout);

    [LoggerMessage(3, LogLevel.Information, "Bus stopped; every accepted message was processed")]
    public static partial void StoppedDrained(ILogger logger);

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

    [LoggerMessage(20, LogLevel.Error, "Consumer {Consumer} failed on message {MessageId} ({MessageType}) from queue {Queue}")]
    public static partial void ConsumerFailed(ILogger logger, Exception exception, Type consumer, Guid messageId, Type messageType, string queue);

    [LoggerMessage(21, LogLevel.Error, "Queue {Queue} has no consumer for message {MessageId} ({MessageType})")]
    public static partial void NoConsumer(ILogger logger, string queue, Guid messageId, Type messageType);
}
