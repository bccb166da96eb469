using Rebus.Activation;
using Rebus.Config;
using Rebus.Routing.TypeBased;
using Rebus.Transport.InMem;

namespace Bus.Benchmarks.Peers;

/// <summary>
/// Rebus on its in-memory transport, set up the way its documentation shows for running without a container: a
/// <see cref="BuiltinHandlerActivator"/> with an inline handler, one <see cref="InMemNetwork"/> whose "orders" queue is
/// also the endpoint's input queue, and type-based routing that maps <see cref="OrderPlaced"/> to it. Rebus routes
/// commands point to point, so messages go out with <c>Send</c> to the owning queue rather than through a
/// subscription. Every message is serialized to JSON on send and deserialized on receive even in memory; that cost is
/// inherent to Rebus and stays in. Workers and parallelism stay at Rebus's documented defaults (1 worker thread, at
/// most 5 messages in flight). The wiki's alternatives (5 workers and parallelism 5 for fast synchronous handlers, 2 and
/// 20 for asynchronous ones) measured no faster here, because the time goes into serialization and the send pipeline,
/// not into waiting for a worker. The worker polls the queue and, once it finds it empty, keeps Rebus's default idle
/// backoff of 100 ms between polls; a round of 20,000 messages mostly hides that, a small round would not. Logging is
/// off so that it costs nothing.
/// </summary>
public sealed class RebusHarness : IThroughputHarness
{
    private readonly Countdown _countdown = new();
    private BuiltinHandlerActivator? _activator;

    public Task StartAsync()
    {
        _activator = new BuiltinHandlerActivator();
        _activator.Handle<OrderPlaced>(_ =>
        {
            _countdown.Signal();
            return Task.CompletedTask;
        });

        Configure.With(_activator)
            .Logging(l => l.None())
            .Transport(t => t.UseInMemoryTransport(new InMemNetwork(), "orders"))
            .Routing(r => r.TypeBased().Map<OrderPlaced>("orders"))
            .Start();
        return Task.CompletedTask;
    }

    public async Task PublishAndWaitAsync(int count)
    {
        var bus = _activator?.Bus ?? throw new InvalidOperationException("StartAsync has not run.");
        _countdown.Reset(count);
        for (var i = 0; i < count; i++)
        {
            await bus.Send(new OrderPlaced(i, 10m));
        }

        await _countdown.WaitAsync();
    }

    public ValueTask DisposeAsync()
    {
        // The activator owns the bus it was configured with; disposing it stops the workers.
        _activator?.Dispose();
        return ValueTask.CompletedTask;
    }
}
