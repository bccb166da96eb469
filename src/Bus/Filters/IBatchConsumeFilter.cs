namespace Bus;

/// <summary>Calls the rest of a batch consume pipeline: the next filter, or at the end the batch consumer.</summary>
/// <param name="context">The batch being consumed.</param>
/// <returns>A task that completes when the rest of the pipeline has.</returns>
public delegate ValueTask BatchConsumeFilterDelegate(BatchConsumeContext context);

/// <summary>
/// Code around every delivery of a batch to an <see cref="IBatchConsumer{TMessage}"/>: the batch counterpart of
/// <see cref="IConsumeFilter"/>, registered the same ways and run in the same order. A class may implement both.
/// </summary>
/// <remarks>
/// A filter that returns without calling next acknowledges the whole batch; one that throws fails it, and the retry
/// policy decides for each of its messages, as for a batch consumer's exception.
/// </remarks>
public interface IBatchConsumeFilter
{
    /// <summary>Runs the filter for one batch.</summary>
    /// <param name="context">The batch; valid until the returned task completes.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <returns>A task that completes when the filter is done.</returns>
    ValueTask ConsumeAsync(BatchConsumeContext context, BatchConsumeFilterDelegate next);
}
