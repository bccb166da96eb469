namespace Bus;

/// <summary>
/// Attribute names: OpenTelemetry's semantic conventions for messaging where they define one, <c>bus.*</c> for ours.
/// </summary>
internal static class TelemetryTags
{
    public const string System = "messaging.system";
    public const string OperationType = "messaging.operation.type";
    public const string OperationName = "messaging.operation.name";
    public const string Destination = "messaging.destination.name";
    public const string MessageId = "messaging.message.id";
    public const string ConversationId = "messaging.message.conversation_id";
    public const string ConsumerGroup = "messaging.consumer.group.name";
    public const string BatchCount = "messaging.batch.message_count";
    public const string ErrorType = "error.type";
    public const string MessageType = "bus.message.type";
    public const string DeliveryCount = "bus.message.delivery_count";
    public const string RoutingKey = "bus.routing_key";
    public const string Consumer = "bus.consumer.type";
    public const string Reason = "bus.dead_letter.reason";
    public const string FullMode = "bus.queue.full_mode";
    public const string Delay = "bus.retry.delay_ms";
    public const string Exchange = "bus.exchange";

    // Operation types of the conventions.
    public const string Send = "send";
    public const string Process = "process";

    // Events on spans.
    public const string RetryEvent = "bus.retry";
    public const string DeadLetterEvent = "bus.dead_letter";
    public const string ExpiredEvent = "bus.expired";
    public const string DroppedEvent = "bus.dropped";
    public const string ReplyEvent = "bus.reply";
}
