namespace Bus;

/// <summary>Calls the rest of a consume pipeline: the next filter, or at the end the consumer.</summary>
/// <param name="context">The message being consumed.</param>
/// <returns>A task that completes when the rest of the pipeline has.</returns>
public delegate ValueTask ConsumeFilterDelegate(ConsumeContext context);

/// <summary>
/// Code around every delivery of a message to its consumer, as ASP.NET Core middleware: act before and after
/// <c>next</c>, or do not call it to short-circuit. Register it bus-wide
/// (<c>AddConsumeFilter</c> on the bus builder), per queue (<see cref="QueueOptions.AddConsumeFilter{TFilter}"/>) or per
/// consumer (<see cref="ConsumerOptions.AddConsumeFilter{TFilter}"/>).
/// </summary>
/// <remarks>
/// Filters run outermost first: bus-wide ones, then the queue's, then the consumer's, each group in the order added. A
/// filter that returns without calling next acknowledges the message; one that calls
/// <see cref="ConsumeContext.Reject(string)"/> dead-letters it; one that throws fails the delivery, and the retry policy
/// and dead-letter rules apply to what it threw, exactly as to a consumer's exception. A scoped filter is resolved from
/// the message's DI scope (<see cref="ConsumeContext.Services"/>), the one the consumer is resolved from.
/// </remarks>
public interface IConsumeFilter
{
    /// <summary>Runs the filter for one message.</summary>
    /// <param name="context">The message being consumed; valid until the returned task completes.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <returns>A task that completes when the filter is done.</returns>
    ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next);
}
