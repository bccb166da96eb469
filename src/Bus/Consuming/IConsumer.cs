namespace Bus;

/// <summary>Consumes messages of one type. A class may implement it for several message types.</summary>
/// <typeparam name="TMessage">The message type.</typeparam>
/// <remarks>
/// Returning normally acknowledges the message. Throwing reports a failure: it is logged, counted and handed to the
/// bus's failure handling; it is never swallowed silently.
/// </remarks>
public interface IConsumer<TMessage>
{
    /// <summary>Consumes one message.</summary>
    /// <param name="context">The message and its envelope; valid until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the bus stops and its drain timeout has passed.</param>
    /// <returns>A task that completes when the message has been consumed.</returns>
    ValueTask ConsumeAsync(ConsumeContext<TMessage> context, CancellationToken cancellationToken);
}
