namespace Bus;

/// <summary>
/// Consumes messages of one type in batches: up to <see cref="BatchOptions.MaxSize"/> messages at once, or whatever
/// arrived within <see cref="BatchOptions.Window"/> of the first one.
/// </summary>
/// <typeparam name="TMessage">The message type.</typeparam>
/// <remarks>
/// A batch succeeds or fails as a whole. Returning acknowledges every message in it. Throwing fails every message: each
/// counts one failed delivery, and the retry policy decides for each (retried at once as a batch again, retried later,
/// or dead-lettered with the exception); throwing <see cref="MessageRejectedException"/> rejects them all. A batch
/// consumer has its queue to itself.
/// </remarks>
public interface IBatchConsumer<TMessage>
{
    /// <summary>Consumes one batch.</summary>
    /// <param name="batch">The messages, in the order they were taken; valid until the returned task completes.</param>
    /// <param name="cancellationToken">Cancelled when the bus stops and its drain timeout has passed, or when the consumer timeout runs out.</param>
    /// <returns>A task that completes when the batch has been consumed.</returns>
    ValueTask ConsumeAsync(Batch<TMessage> batch, CancellationToken cancellationToken);
}
