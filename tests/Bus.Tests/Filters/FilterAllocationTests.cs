using Bus.Tests.Support;

namespace Bus.Tests.Filters;

/// <summary>
/// Allocation is counted per thread, as in <c>Performance/HotPathAllocationTests</c>: consumers that complete
/// synchronously run one after the other on their read loop's thread, so the consumer itself reads that thread's count.
/// </summary>
public sealed class FilterAllocationTests
{
    [Fact]
    public async Task Consuming_through_a_singleton_filter_that_awaits_next_synchronously_allocates_nothing_per_message()
    {
        const int WarmUp = 1000;
        const int Measured = 1000;
        await using var bus = await TestBus.StartAsync(
            b => b
                // Log scopes are one object per delivery by design (a provider may keep them); they are not the filter's.
                .Configure(o => o.LogScopes = false)
                .AddConsumeFilter<PassThroughFilter>()
                .AddConsumer<AllocationProbeConsumer>(c =>
                {
                    c.Queue = "jobs";
                    c.Lifetime = ConsumerLifetime.Singleton;
                    c.QueueOptions.Capacity = 10_000;
                }),
            s => s.AddSingleton<Gate>().AddSingleton(new AllocationProbe(WarmUp, WarmUp + Measured)));

        // Job -1 holds the only consumer at the gate while the rest is published, so that once it opens, every other
        // message is already waiting and the read loop consumes them in one run on one thread.
        await bus.Publisher.PublishAsync(new Job(-1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        for (var i = 0; i <= WarmUp + Measured; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        var probe = bus.Get<AllocationProbe>();
        probe.EndThread.Should().Be(probe.StartThread, "the messages were consumed in one run of the read loop");
        (probe.End - probe.Start).Should().Be(0);
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(WarmUp + Measured + 2);
    }

    /// <summary>The allocation count of the consuming thread at two messages.</summary>
    public sealed class AllocationProbe(int startAt, int endAt)
    {
        public int StartAt { get; } = startAt;

        public int EndAt { get; } = endAt;

        public long Start { get; set; }

        public int StartThread { get; set; }

        public long End { get; set; }

        public int EndThread { get; set; }
    }

    /// <summary>Waits at the gate for job -1; completes synchronously for the others, reading the allocation count at two of them.</summary>
    public sealed class AllocationProbeConsumer(Gate gate, AllocationProbe probe) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            var id = context.Message.Id;
            if (id < 0)
            {
                return new ValueTask(gate.PassAsync(cancellationToken));
            }

            if (id == probe.StartAt)
            {
                probe.StartThread = Environment.CurrentManagedThreadId;
                probe.Start = GC.GetAllocatedBytesForCurrentThread();
            }
            else if (id == probe.EndAt)
            {
                probe.End = GC.GetAllocatedBytesForCurrentThread();
                probe.EndThread = Environment.CurrentManagedThreadId;
            }

            return default;
        }
    }
}
