namespace Bus;

/// <summary>Limits on routing keys, as RabbitMQ's: a key is at most 255 characters.</summary>
internal static class RoutingKeys
{
    public const int MaxLength = 255;

    public static string? Validate(string routingKey) => routingKey.Length > MaxLength
        ? $"the routing key '{routingKey[..20]}...' is {routingKey.Length} characters long; the limit is {MaxLength}"
        : null;
}
