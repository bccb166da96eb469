using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// Calls one consumer type for one message type, through its consume filters if it has any. A singleton consumer
/// without scoped filters is called directly, so a consumer that completes synchronously costs no allocation; a scoped
/// consumer, or a scoped filter, gets a DI scope per message, which the consumer and the filters share.
/// </summary>
internal sealed class ConsumerHandler<TMessage, [DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer> : MessageHandler
    where TConsumer : class, IConsumer<TMessage>
{
    private readonly ConsumerRegistration<TMessage, TConsumer> _registration;
    private readonly ConsumeContext<TMessage> _context;
    private readonly ConsumeFilterDelegate? _pipeline;
    private readonly bool _needsScope;

    public ConsumerHandler(ConsumerRegistration<TMessage, TConsumer> registration, ConsumeContext<TMessage> context)
        : base(typeof(TMessage), typeof(TConsumer), context, registration.RetryPolicy)
    {
        _registration = registration;
        _context = context;
        var filters = registration.Filters;
        if (FilterPipeline.Any(filters, typeof(IConsumeFilter)))
        {
            _pipeline = FilterPipeline.Build(filters, registration.FilterInstances, ConsumeAsync);
        }

        _needsScope = registration.Activator.Singleton is null || FilterPipeline.NeedsScope(filters, typeof(IConsumeFilter));
        context.Services = registration.RootServices;
    }

    public override void Prepare(in Envelope envelope) => _context.Initialize(envelope);

    public override ValueTask HandleAsync(CancellationToken cancellationToken)
    {
        _context.CancellationToken = cancellationToken;
        if (_needsScope)
        {
            return ConsumeScopedAsync();
        }

        return _pipeline is null
            ? _registration.Activator.Singleton!.ConsumeAsync(_context, cancellationToken)
            : _pipeline(_context);
    }

    // Pooled builder: a scoped consumer that really awaits does not allocate a state machine per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ConsumeScopedAsync()
    {
        var scope = _registration.Activator.CreateScopeForMessage();
        try
        {
            _context.Services = scope.ServiceProvider;
            await (_pipeline ?? ConsumeAsync)(_context).ConfigureAwait(false);
        }
        finally
        {
            _context.Services = _registration.RootServices;
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The end of the pipeline: the consumer, from the message's services unless it is a singleton.</summary>
    private ValueTask ConsumeAsync(ConsumeContext context)
    {
        var consumer = _registration.Activator.Singleton ?? _registration.Activator.Resolve(context.Services);
        return consumer.ConsumeAsync(_context, context.CancellationToken);
    }
}
