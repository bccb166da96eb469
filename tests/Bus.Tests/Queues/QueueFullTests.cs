using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Queues;

public sealed class QueueFullTests
{
    /// <summary>A bus whose one consumer is held at a gate, with the first message already taken off the queue.</summary>
    private static async Task<TestBus> StartWithBusyConsumerAsync(Action<QueueOptions> queue)
    {
        var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => queue(c.QueueOptions)),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        return bus;
    }

    [Fact]
    public async Task Publisher_waits_while_the_queue_is_full_and_resumes_when_there_is_room()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => q.Capacity = 1);
        await bus.Publisher.PublishAsync(new Job(2));

        var waiting = bus.Publisher.PublishAsync(new Job(3)).AsTask();
        waiting.IsCompleted.Should().BeFalse("the queue holds one message and the consumer is busy");

        bus.Get<Gate>().Open();
        await waiting.WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 2, 3);
    }

    [Fact]
    public async Task A_publisher_waiting_on_a_full_queue_can_be_cancelled_and_nothing_is_enqueued()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => q.Capacity = 1);
        await bus.Publisher.PublishAsync(new Job(2));
        using var cancellation = new CancellationTokenSource();

        var waiting = bus.Publisher.PublishAsync(new Job(3), cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        await waiting.Invoking(t => t.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<OperationCanceledException>();
        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 2);
        bus.Bus.GetStatistics().Queues.Single().Enqueued.Should().Be(2);
    }

    [Fact]
    public async Task Reject_mode_throws_QueueFullException_naming_the_queue_and_message_type()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => { q.Capacity = 1; q.FullMode = QueueFullMode.Reject; });
        await bus.Publisher.PublishAsync(new Job(2));

        var publish = async () => await bus.Publisher.PublishAsync(new Job(3));

        var thrown = (await publish.Should().ThrowAsync<QueueFullException>()).Which;
        thrown.Queue.Should().Be(BusNames.QueueFor(typeof(GatedConsumer<Job>)));
        thrown.MessageType.Should().Be<Job>();
        thrown.Message.Should().Contain(thrown.Queue).And.Contain(nameof(Job));
        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 2);
    }

    [Fact]
    public async Task DropOldest_drops_the_oldest_queued_message_and_counts_and_logs_it()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => { q.Capacity = 2; q.FullMode = QueueFullMode.DropOldest; });

        foreach (var id in new[] { 2, 3, 4 })
        {
            await bus.Publisher.PublishAsync(new Job(id));
        }

        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 3, 4);
        bus.Bus.GetStatistics().Queues.Single().Dropped.Should().Be(1);
        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == 11);
    }

    [Fact]
    public async Task DropNewest_drops_the_most_recently_queued_message_to_make_room()
    {
        await using var bus = await StartWithBusyConsumerAsync(q => { q.Capacity = 2; q.FullMode = QueueFullMode.DropNewest; });

        foreach (var id in new[] { 2, 3, 4 })
        {
            await bus.Publisher.PublishAsync(new Job(id));
        }

        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 2, 4);
        bus.Bus.GetStatistics().Queues.Single().Dropped.Should().Be(1);
    }

    [Fact]
    public async Task A_full_queue_in_Reject_mode_does_not_stop_other_queues_getting_their_copy()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("fan", ExchangeType.Fanout)
            .AddQueue("small", q => { q.Capacity = 1; q.FullMode = QueueFullMode.Reject; })
            .AddQueue("large")
            .Bind("fan", "small").Bind("fan", "large"));
        var options = new PublishOptions { Exchange = "fan" };
        await bus.Publisher.PublishAsync(new Job(1), options);

        var publish = async () => await bus.Publisher.PublishAsync(new Job(2), options);

        await publish.Should().ThrowAsync<QueueFullException>();
        bus.Bus.GetStatistics().GetQueue("large").Enqueued.Should().Be(2);
    }
}
