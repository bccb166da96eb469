using Microsoft.Extensions.Logging;

namespace Bus.RabbitMQ;

/// <summary>The RabbitMQ transport's log events (ids 1000 and up, apart from the bus's own).</summary>
internal static partial class Log
{
    [LoggerMessage(1000, LogLevel.Warning, "The RabbitMQ {Connection} connection was lost ({Reason}); it recovers by itself (publishes wait for it, deliveries not yet acknowledged go back to the broker)")]
    public static partial void ConnectionLost(ILogger logger, string connection, string reason);

    [LoggerMessage(1001, LogLevel.Information, "The RabbitMQ {Connection} connection recovered")]
    public static partial void ConnectionRecovered(ILogger logger, string connection);

    [LoggerMessage(1002, LogLevel.Warning, "RabbitMQ blocks publishers ({Reason}): publishes wait until it unblocks")]
    public static partial void ConnectionBlocked(ILogger logger, string reason);

    [LoggerMessage(1003, LogLevel.Warning, "Closing a RabbitMQ connection failed")]
    public static partial void CloseFailed(ILogger logger, Exception exception);

    [LoggerMessage(1004, LogLevel.Error, "The RabbitMQ consumer of queue {Queue} could not start; it tries again in {Interval}")]
    public static partial void ConsumerFailed(ILogger logger, Exception exception, string queue, TimeSpan interval);

    [LoggerMessage(1009, LogLevel.Error, "The RabbitMQ consumer of queue {Queue} stopped: {Why}; it starts again (retrying every {Interval}), and its unacknowledged deliveries come back from the broker")]
    public static partial void ConsumerLost(ILogger logger, string queue, string why, TimeSpan interval);

    [LoggerMessage(1005, LogLevel.Warning, "A reply for request {RequestId} could not be read ({Problem}); the requester gets a fault")]
    public static partial void ReplyUnreadable(ILogger logger, Guid requestId, string problem);

    [LoggerMessage(1006, LogLevel.Debug, "A reply arrived for request {RequestId}, which no longer waits for it")]
    public static partial void ReplyWithoutRequester(ILogger logger, Guid requestId);

    [LoggerMessage(1007, LogLevel.Error, "Handing a delivery of queue {Queue} to the bus failed; it is requeued")]
    public static partial void DeliveryFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(1008, LogLevel.Information, "RabbitMQ at {Endpoint} has the bus's topology: {Exchanges} exchanges, {Queues} queues, {Bindings} bindings")]
    public static partial void TopologyDeclared(ILogger logger, string endpoint, int exchanges, int queues, int bindings);
}
