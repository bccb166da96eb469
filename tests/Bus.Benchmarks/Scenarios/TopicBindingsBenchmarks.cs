using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>
/// Scenario 4: publishing through a topic exchange as its bindings grow from 10 to 10,000. One binding (<c>order.*</c>)
/// leads to the consumer; the others are patterns of other services that these keys never match. Keys cycle through
/// 64 values. <see cref="Cached"/> = false turns the per-key result cache off, so every publish walks the trie.
/// </summary>
[MemoryDiagnoser]
public class TopicBindingsBenchmarks
{
    private const int Keys = 64;
    private readonly string[] _keys = [.. Enumerable.Range(0, Keys).Select(k => $"order.k{k}")];
    private ServiceProvider _services = null!;
    private IPublisher _publisher = null!;
    private Countdown _countdown = null!;

    [Params(10, 1_000, 10_000)]
    public int Bindings { get; set; }

    [Params(true, false)]
    public bool Cached { get; set; }

    [GlobalSetup]
    public async Task Setup()
    {
        var services = new ServiceCollection();
        services.AddSingleton<Countdown>();
        services.AddMessageBus(b =>
        {
            b.AddExchange("events", ExchangeType.Topic)
                .MapMessage<OrderPlaced>("events")
                .AddConsumer<BusHarness.CountingConsumer>(c => { c.Lifetime = ConsumerLifetime.Singleton; c.Bind<OrderPlaced>("order.*"); })
                .Configure(o => o.RoutingCacheSize = Cached ? BusOptions.DefaultRoutingCacheSize : 0);
            b.AddQueue("elsewhere", q => q.Capacity = 1);
            for (var i = 1; i < Bindings; i++)
            {
                b.Bind("events", "elsewhere", $"service{i}.{(i % 2 == 0 ? "*" : "#")}.updated");
            }
        });
        _services = services.BuildServiceProvider();
        _countdown = _services.GetRequiredService<Countdown>();
        var bus = _services.GetRequiredService<IMessageBus>();
        await bus.StartAsync();
        _publisher = bus;
        await JitWarmup.RunAsync(() => Publish(Sizes.PeerMessages));
    }

    [GlobalCleanup]
    public ValueTask Cleanup() => _services.DisposeAsync();

    // Twice the other scenarios' count: an iteration of 200,000 publishes lasts only 30-80 ms here, too short to tell
    // 10 bindings from 10,000 through the noise of the hand-off to the consumer. (Four times, before the quick run
    // compared them in interleaved rounds, which cancel the machine's drift.)
    [Benchmark(OperationsPerInvoke = 2 * Sizes.Messages)]
    public Task Publish() => Publish(2 * Sizes.Messages);

    private async Task Publish(int count)
    {
        _countdown.Reset(count);
        for (var i = 0; i < count; i++)
        {
            await _publisher.PublishAsync(new OrderPlaced(i, 10m), _keys[i % Keys]);
        }

        await _countdown.WaitAsync();
    }
}
