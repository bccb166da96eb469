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
        // No consumers: nothing waits on the queues, so a publish never wakes a thread. The channels' buffers double as
        // they fill; 1,100 messages grow them to 2,048 slots, which the measured 900 more then fit in.
        const int WarmUp = 1100;
        const int Measured = 900;
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("events", ExchangeType.Topic)
            .AddQueue("a", q => q.Capacity = 10_000)
            .AddQueue("b", q => q.Capacity = 10_000)
            .AddQueue("c", q => q.Capacity = 10_000)
            .Bind("events", "a", "order.*")
            .Bind("events", "b", "#")
            .Bind<OrderPlaced>("c"));
        var job = new Job(1);
        var order = new OrderPlaced(1);
        var options = new PublishOptions { Exchange = "events", RoutingKey = "order.created" };
        for (var i = 0; i < WarmUp; i++)
        {
            await bus.Publisher.PublishAsync(order);
            await bus.Publisher.PublishAsync(job, options);
        }

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
        bus.Bus.GetStatistics().Queues.Select(q => q.Enqueued).Should().Equal(2000, 2000, 2000);
    }
}
