namespace Bus;

/// <summary>The built-in routing kinds, with RabbitMQ's semantics.</summary>
public enum ExchangeType
{
    /// <summary>Every bound queue gets every message; routing keys are ignored.</summary>
    Fanout,

    /// <summary>A queue gets a message when its binding key equals the message's routing key exactly.</summary>
    Direct,

    /// <summary>
    /// Binding keys are dot-separated patterns: <c>*</c> matches exactly one word, <c>#</c> matches zero or more words.
    /// </summary>
    Topic,

    /// <summary>
    /// Binding arguments are matched against message headers; <c>x-match</c> is <c>all</c> (the default) or <c>any</c>.
    /// </summary>
    Headers,
}
