using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>Delivers batches of one message type to their consumer, for one batch worker.</summary>
internal abstract class BatchHandler(Type consumerType, IRetryPolicy retryPolicy)
{
    public Type ConsumerType { get; } = consumerType;

    public IRetryPolicy RetryPolicy { get; } = retryPolicy;

    /// <summary>Delivers the first <paramref name="count"/> envelopes, which stay untouched until the task completes.</summary>
    public abstract ValueTask HandleAsync(Envelope[] envelopes, int count, CancellationToken cancellationToken);

    /// <summary>Stops reusing the batch object, which a consumer that overran its time may still be reading.</summary>
    public abstract void Abandon();
}

/// <inheritdoc cref="BatchHandler"/>
internal sealed class BatchHandler<TMessage, TConsumer>(ConsumerActivator<TConsumer> activator, string queue, int maxSize, IRetryPolicy retryPolicy)
    : BatchHandler(typeof(TConsumer), retryPolicy)
    where TConsumer : class, IBatchConsumer<TMessage>
{
    private Batch<TMessage> _batch = new(queue, maxSize);

    public override ValueTask HandleAsync(Envelope[] envelopes, int count, CancellationToken cancellationToken)
    {
        _batch.Initialize(envelopes, count);
        return activator.Singleton is { } consumer
            ? consumer.ConsumeAsync(_batch, cancellationToken)
            : ConsumeScopedAsync(cancellationToken);
    }

    public override void Abandon() => _batch = new(queue, maxSize);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ConsumeScopedAsync(CancellationToken cancellationToken)
    {
        var scope = activator.CreateScopeForMessage();
        try
        {
            var consumer = activator.Resolve(scope.ServiceProvider);
            await consumer.ConsumeAsync(_batch, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}
