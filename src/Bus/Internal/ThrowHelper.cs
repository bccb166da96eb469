using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>Throws from out-of-line methods so that hot methods stay small enough to inline.</summary>
internal static class ThrowHelper
{
    [DoesNotReturn]
    public static void ThrowArgumentNull(string paramName) => throw new ArgumentNullException(paramName);

    [DoesNotReturn]
    public static void ThrowNotRunning(Type messageType, BusState state) => throw new BusNotRunningException(messageType, state);

    [DoesNotReturn]
    public static void ThrowRoutingKeyTooLong(string routingKey) => throw new ArgumentException(
        $"The routing key is {routingKey.Length} characters long; the limit is {RoutingKeys.MaxLength}.", nameof(routingKey));

    [DoesNotReturn]
    public static void ThrowExchangeWithQueue() => throw new ArgumentException(
        "A message sent to a queue does not go through an exchange: PublishOptions.Exchange must be null.", "options");

    [DoesNotReturn]
    public static Exchange ThrowUnknownExchange(string name) => throw new ArgumentException(
        $"No exchange named '{name}' is declared.", "exchange");

    [DoesNotReturn]
    public static BusQueue[] ThrowUnknownQueue(string name) => throw new ArgumentException(
        $"No queue named '{name}' is declared.", "queue");
}
