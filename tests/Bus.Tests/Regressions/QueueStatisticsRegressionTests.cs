using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 11 (the queue figures): <see cref="QueueStatistics.Depth"/> shows every message waiting, those a
/// consumer parked in the overflow beside its full queue included, and <see cref="QueueStatistics.Pending"/> counts
/// accepted messages only, not publishers still waiting for room.
/// </summary>
public sealed class QueueStatisticsRegressionTests
{
    private const string Queue = "self";

    [Fact]
    public async Task Depth_shows_messages_a_consumer_parked_beyond_the_capacity_of_its_own_full_queue()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddQueue(Queue, q => { q.Capacity = 2; q.OverflowCapacity = 10; })
                .AddConsumer<SelfPublishingConsumer>(c => c.Queue = Queue),
            s => s.AddSingleton<Gate>());

        await bus.Publisher.SendAsync(Queue, new Job(0));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var statistics = bus.Bus.GetStatistics().GetQueue(Queue);
        statistics.Depth.Should().Be(SelfPublishingConsumer.Published, "two jobs fill the queue and three wait in its overflow, all undelivered");
        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Should().HaveCount(1 + SelfPublishingConsumer.Published);
    }

    [Fact]
    public async Task Pending_does_not_count_a_publisher_still_waiting_for_room()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue(Queue, q => q.Capacity = 1).AddConsumer<GatedConsumer<Job>>(c => c.Queue = Queue),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.SendAsync(Queue, new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        await bus.Publisher.SendAsync(Queue, new Job(2));

        var waiting = bus.Publisher.SendAsync(Queue, new Job(3)).AsTask();
        waiting.IsCompleted.Should().BeFalse("the queue holds job 2 and the consumer is busy with job 1");

        bus.Bus.GetStatistics().GetQueue(Queue).Pending.Should().Be(2, "job 1 is being consumed and job 2 waits in the queue; job 3 was not accepted yet");
        bus.Get<Gate>().Open();
        await waiting.WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Should().HaveCount(3);
    }

    /// <summary>On job 0, sends five jobs into its own queue (capacity 2), then waits at the gate; records every job.</summary>
    public sealed class SelfPublishingConsumer(Gate gate, Recorder recorder) : IConsumer<Job>
    {
        public const int Published = 5;

        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.Message.Id == 0)
            {
                for (var id = 1; id <= Published; id++)
                {
                    await context.SendAsync(Queue, new Job(id), cancellationToken);
                }

                await gate.PassAsync(cancellationToken);
            }

            recorder.Record(context, nameof(SelfPublishingConsumer));
        }
    }
}
