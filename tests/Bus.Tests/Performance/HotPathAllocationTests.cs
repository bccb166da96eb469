using Bus.Tests.Support;

namespace Bus.Tests.Performance;

/// <summary>
/// Allocation is counted per thread, so these checks are exact and independent of machine speed; throughput claims
/// live in tests/Bus.Benchmarks.
/// </summary>
public sealed class HotPathAllocationTests
{
    [Fact]
    public async Task Publishing_allocates_nothing_once_the_queues_have_grown_to_their_working_depth()
    {
        const int WarmUp = 1100;
        const int Measured = 1000;
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddExchange("events", ExchangeType.Topic)
                .AddQueue("a", q => q.Capacity = 10_000)
                .AddQueue("b", q => q.Capacity = 10_000)
                .Bind("events", "a", "order.*")
                .Bind("events", "b", "#")
                .AddConsumer<GatedConsumer<Job>>(c => c.Queue = "a")
                .AddConsumer<GatedConsumer<Job>>(c => c.Queue = "b")
                .AddConsumer<GatedConsumer<OrderPlaced>>(c => c.QueueOptions.Capacity = 10_000),
            s => s.AddSingleton<Gate>());
        var job = new Job(1);
        var order = new OrderPlaced(1);
        var options = new PublishOptions { Exchange = "events", RoutingKey = "order.created" };

        // The channels' buffers grow while the consumers are held; they never shrink, so the measured round reuses them.
        for (var i = 0; i < WarmUp; i++)
        {
            await bus.Publisher.PublishAsync(order);
            await bus.Publisher.PublishAsync(job, options);
        }

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        var completedSynchronously = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < Measured; i++)
        {
            completedSynchronously += bus.Publisher.PublishAsync(order).IsCompletedSuccessfully ? 1 : 0;
            completedSynchronously += bus.Publisher.PublishAsync(job, options).IsCompletedSuccessfully ? 1 : 0;
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        allocated.Should().Be(0);
        completedSynchronously.Should().Be(2 * Measured);
        await bus.IdleAsync();
        bus.Bus.GetStatistics().Queues.Sum(q => q.Faulted).Should().Be(0);
    }
}
