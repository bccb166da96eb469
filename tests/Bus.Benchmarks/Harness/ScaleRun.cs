using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>
/// What the topology costs as it grows, on a running bus with default options: memory retained per idle queue (with
/// its consumer and binding), the time to declare queue + consumer + binding at run time, and the CPU an idle bus uses.
/// Targets: at most 4 KB per idle queue, 10,000 runtime declarations in under a second, under 5 ms of CPU per second
/// with 10,000 idle queues.
/// </summary>
internal static class ScaleRun
{
    private const string Exchange = "scale";

    public static async Task<int> RunAsync()
    {
        foreach (var queues in new[] { 1_000, 10_000 })
        {
            await MeasureAsync(queues);
        }

        return 0;
    }

    private static async Task MeasureAsync(int queues)
    {
        var services = new ServiceCollection();
        services.AddMessageBus(b => b.AddExchange(Exchange, ExchangeType.Topic));
        await using var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IMessageBus>();
        await bus.StartAsync();

        // A first declaration outside the measurement: the JIT compiles the declaration path once.
        Declare(bus, "warm-up");
        var before = RetainedBytes();
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < queues; i++)
        {
            Declare(bus, string.Create(CultureInfo.InvariantCulture, $"q{i}"));
        }

        var declared = clock.Elapsed;
        await bus.PublishAsync(new OrderPlaced(1, 1m), new PublishOptions { Exchange = Exchange, RoutingKey = "orders.q0" });
        await bus.WaitForIdleAsync();
        var perQueue = (RetainedBytes() - before) / (double)queues;

        // Settled first: the runtime finishes compiling and collecting what the declarations left behind.
        await Task.Delay(TimeSpan.FromSeconds(2));
        var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var idle = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(5));
        process.Refresh();
        var cpuPerSecond = (process.TotalProcessorTime - cpuBefore).TotalMilliseconds / idle.Elapsed.TotalSeconds;

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{queues} queues: {perQueue:0} bytes retained per idle queue (queue, consumer, binding); declared at run time in {declared.TotalMilliseconds:0} ms ({declared.TotalMicroseconds / queues:0.0} µs each); idle CPU {cpuPerSecond:0.00} ms per second"));
        await bus.StopAsync();
    }

    private static void Declare(IMessageBus bus, string queue)
    {
        bus.Topology.DeclareQueue(queue);
        bus.Topology.AddConsumer<NoOpConsumer>(queue, ConsumerLifetime.Singleton);
        bus.Topology.Bind(new Binding(Exchange, queue, $"orders.{queue}"));
    }

    private static long RetainedBytes()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: false);
    }

    public sealed class NoOpConsumer : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => default;
    }
}
