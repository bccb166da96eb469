using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Queues;

public sealed class PriorityTests
{
    /// <summary>A bus whose one consumer of a priority queue is held at a gate, with the first message taken.</summary>
    private static async Task<TestBus> StartWithBusyConsumerAsync(Action<QueueOptions>? queue = null)
    {
        var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c =>
            {
                c.QueueOptions.MaxPriority = 10;
                queue?.Invoke(c.QueueOptions);
            }),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(0));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        return bus;
    }

    private static ValueTask PublishAsync(TestBus bus, int id, byte priority) =>
        bus.Publisher.PublishAsync(new Job(id), new PublishOptions { Priority = priority });

    [Fact]
    public async Task Waiting_messages_are_delivered_highest_priority_first_and_in_order_within_a_priority()
    {
        await using var bus = await StartWithBusyConsumerAsync();
        await PublishAsync(bus, 1, priority: 1);
        await PublishAsync(bus, 2, priority: 5);
        await PublishAsync(bus, 3, priority: 0);
        await PublishAsync(bus, 4, priority: 5);
        await PublishAsync(bus, 5, priority: 9);

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 5, 2, 4, 1, 3);
    }

    [Fact]
    public async Task A_priority_above_the_queue_maximum_counts_as_the_maximum()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => q.MaxPriority = 3);
        await PublishAsync(bus, 1, priority: 3);
        await PublishAsync(bus, 2, priority: 200);
        await PublishAsync(bus, 3, priority: 2);

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 1, 2, 3);
        bus.Recorder.All.Single(r => r.Message.Equals(new Job(2))).Envelope.Priority.Should().Be(200, "the message keeps its own priority");
    }

    [Fact]
    public async Task A_queue_without_priorities_ignores_them()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => q.MaxPriority = 0);
        await PublishAsync(bus, 1, priority: 0);
        await PublishAsync(bus, 2, priority: 9);

        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 1, 2);
    }

    [Fact]
    public async Task A_publisher_waits_while_the_priority_queue_is_full_and_resumes_when_there_is_room()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => q.Capacity = 2);
        await PublishAsync(bus, 1, priority: 1);
        await PublishAsync(bus, 2, priority: 2);

        var waiting = PublishAsync(bus, 3, priority: 9).AsTask();
        waiting.IsCompleted.Should().BeFalse("the queue holds two messages and the consumer is busy");

        bus.Get<Gate>().Open();
        await waiting.WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().BeEquivalentTo([0, 1, 2, 3]);
    }

    [Fact]
    public async Task Competing_consumers_of_a_priority_queue_lose_and_repeat_nothing()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("work", q => { q.MaxPriority = 4; q.Concurrency = 4; q.Capacity = 16; })
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "work"));

        var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 1000; i++)
            {
                var id = (p * 1000) + i;
                await bus.Publisher.SendAsync("work", new Job(id), new PublishOptions { Priority = (byte)(id % 5) });
            }
        }));
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Order().Should().Equal(Enumerable.Range(0, 4000));
    }
}
