namespace Bus;

/// <summary>Maps the built-in exchange types to their strategies and back.</summary>
internal static class RoutingStrategies
{
    public static IRoutingStrategy For(ExchangeType type) => type switch
    {
        ExchangeType.Fanout => FanoutRoutingStrategy.Instance,
        ExchangeType.Direct => DirectRoutingStrategy.Instance,
        ExchangeType.Topic => TopicRoutingStrategy.Instance,
        ExchangeType.Headers => HeadersRoutingStrategy.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, $"{type} is not an {nameof(ExchangeType)}."),
    };

    public static ExchangeType? TypeOf(IRoutingStrategy strategy) => strategy switch
    {
        FanoutRoutingStrategy => ExchangeType.Fanout,
        DirectRoutingStrategy => ExchangeType.Direct,
        TopicRoutingStrategy => ExchangeType.Topic,
        HeadersRoutingStrategy => ExchangeType.Headers,
        _ => null,
    };

    public static string Describe(IRoutingStrategy strategy) =>
        TypeOf(strategy)?.ToString().ToLowerInvariant() ?? strategy.GetType().Name;

    /// <summary>The binding a consumer's own queue gets when it names no key: everything the exchange carries.</summary>
    public static string? DefaultBindingKey(IRoutingStrategy strategy) => TypeOf(strategy) switch
    {
        ExchangeType.Topic => TopicPattern.AnyWords,
        ExchangeType.Direct => null,
        _ => string.Empty,
    };
}
