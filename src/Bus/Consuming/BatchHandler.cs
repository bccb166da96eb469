using System.Diagnostics.CodeAnalysis;
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
internal sealed class BatchHandler<TMessage, [DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer> : BatchHandler
    where TConsumer : class, IBatchConsumer<TMessage>
{
    private readonly ConsumerActivator<TConsumer> _activator;
    private readonly string _queue;
    private readonly int _maxSize;
    private readonly IServiceProvider _root;
    private readonly BatchConsumeFilterDelegate? _pipeline;
    private readonly bool _needsScope;
    private Batch<TMessage> _batch;

    public BatchHandler(ConsumerActivator<TConsumer> activator, string queue, int maxSize, IRetryPolicy retryPolicy, FilterRegistration[] filters, FilterInstances instances)
        : base(typeof(TConsumer), retryPolicy)
    {
        _activator = activator;
        _queue = queue;
        _maxSize = maxSize;
        _root = instances.Root;
        if (FilterPipeline.Any(filters, typeof(IBatchConsumeFilter)))
        {
            _pipeline = FilterPipeline.Build(filters, instances, ConsumeAsync);
        }

        _needsScope = activator.Singleton is null || FilterPipeline.NeedsScope(filters, typeof(IBatchConsumeFilter));
        _batch = NewBatch();
    }

    public override ValueTask HandleAsync(Envelope[] envelopes, int count, CancellationToken cancellationToken)
    {
        _batch.Initialize(envelopes, count);
        _batch.CancellationToken = cancellationToken;
        if (_needsScope)
        {
            return ConsumeScopedAsync();
        }

        return _pipeline is null
            ? _activator.Singleton!.ConsumeAsync(_batch, cancellationToken)
            : _pipeline(_batch);
    }

    public override void Abandon() => _batch = NewBatch();

    private Batch<TMessage> NewBatch() => new(_queue, _maxSize) { Services = _root };

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ConsumeScopedAsync()
    {
        var batch = _batch;
        var scope = _activator.CreateScopeForMessage();
        try
        {
            batch.Services = scope.ServiceProvider;
            await (_pipeline ?? ConsumeAsync)(batch).ConfigureAwait(false);
        }
        finally
        {
            batch.Services = _root;
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    private ValueTask ConsumeAsync(BatchConsumeContext context)
    {
        var consumer = _activator.Singleton ?? _activator.Resolve(context.Services);
        return consumer.ConsumeAsync((Batch<TMessage>)context, context.CancellationToken);
    }
}
