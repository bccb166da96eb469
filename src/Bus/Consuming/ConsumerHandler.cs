using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// Calls one consumer type for one message type. A singleton consumer's task is returned as is, so a consumer that
/// completes synchronously costs no allocation; a scoped consumer gets a DI scope per message.
/// </summary>
internal sealed class ConsumerHandler<TMessage, TConsumer> : MessageHandler
    where TConsumer : class, IConsumer<TMessage>
{
    private readonly ConsumerRegistration<TMessage, TConsumer> _registration;
    private readonly ConsumeContext<TMessage> _context;

    public ConsumerHandler(ConsumerRegistration<TMessage, TConsumer> registration, ConsumeContext<TMessage> context)
        : base(typeof(TMessage), typeof(TConsumer), context, registration.RetryPolicy)
    {
        _registration = registration;
        _context = context;
    }

    public override void Prepare(in Envelope envelope) => _context.Initialize(envelope);

    public override ValueTask HandleAsync(CancellationToken cancellationToken)
    {
        return _registration.Activator.Singleton is { } consumer
            ? consumer.ConsumeAsync(_context, cancellationToken)
            : ConsumeScopedAsync(cancellationToken);
    }

    // Pooled builder: a scoped consumer that really awaits does not allocate a state machine per message.
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask ConsumeScopedAsync(CancellationToken cancellationToken)
    {
        var scope = _registration.Activator.CreateScopeForMessage();
        try
        {
            var consumer = _registration.Activator.Resolve(scope.ServiceProvider);
            await consumer.ConsumeAsync(_context, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }
}
