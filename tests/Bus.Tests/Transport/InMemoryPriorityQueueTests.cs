namespace Bus.Tests.Transport;

public sealed class InMemoryPriorityQueueTests
{
    private readonly List<Envelope> _dropped = [];

    private InMemoryPriorityQueue Create(int capacity, QueueFullMode mode = QueueFullMode.Wait) =>
        new(new QueueOptions { Capacity = capacity, FullMode = mode, MaxPriority = 9 }, _dropped.Add);

    private static Envelope Message(int id, byte priority) =>
        new(id, typeof(int), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, 1, priority: priority);

    private static List<int> TakeAll(InMemoryPriorityQueue queue)
    {
        var taken = new List<int>();
        while (queue.TryReceive(out var envelope, out _))
        {
            taken.Add((int)envelope.Message);
        }

        return taken;
    }

    [Fact]
    public void Wait_and_reject_modes_refuse_a_message_when_full()
    {
        var queue = Create(capacity: 1);
        queue.TryEnqueue(Message(1, 0)).Should().BeTrue();

        queue.TryEnqueue(Message(2, 9)).Should().BeFalse();
        queue.Count.Should().Be(1);
    }

    [Fact]
    public void Drop_newest_drops_the_newest_message_of_the_lowest_waiting_priority()
    {
        var queue = Create(capacity: 3, QueueFullMode.DropNewest);
        queue.TryEnqueue(Message(1, 1));
        queue.TryEnqueue(Message(2, 1));
        queue.TryEnqueue(Message(3, 5));

        queue.TryEnqueue(Message(4, 3)).Should().BeTrue();

        _dropped.Select(e => (int)e.Message).Should().Equal(2);
        TakeAll(queue).Should().Equal(3, 4, 1);
    }

    [Fact]
    public void Drop_oldest_drops_the_oldest_message_of_the_lowest_waiting_priority()
    {
        var queue = Create(capacity: 3, QueueFullMode.DropOldest);
        queue.TryEnqueue(Message(1, 1));
        queue.TryEnqueue(Message(2, 1));
        queue.TryEnqueue(Message(3, 5));

        queue.TryEnqueue(Message(4, 1)).Should().BeTrue();

        _dropped.Select(e => (int)e.Message).Should().Equal(1);
        TakeAll(queue).Should().Equal(3, 2, 4);
    }

    [Theory]
    [InlineData(QueueFullMode.DropNewest)]
    [InlineData(QueueFullMode.DropOldest)]
    public void A_new_message_of_lower_priority_than_everything_waiting_is_the_one_dropped(QueueFullMode mode)
    {
        var queue = Create(capacity: 2, mode);
        queue.TryEnqueue(Message(1, 4));
        queue.TryEnqueue(Message(2, 5));

        queue.TryEnqueue(Message(3, 3)).Should().BeTrue();

        _dropped.Select(e => (int)e.Message).Should().Equal(3);
        TakeAll(queue).Should().Equal(2, 1);
    }

    [Fact]
    public async Task A_waiting_consumer_wakes_when_a_message_arrives()
    {
        var queue = Create(capacity: 4);
        var waiting = queue.WaitToReceiveAsync(CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();

        queue.TryEnqueue(Message(1, 0));

        (await waiting.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
    }

    [Fact]
    public async Task A_waiting_publisher_wakes_when_room_appears()
    {
        var queue = Create(capacity: 1);
        queue.TryEnqueue(Message(1, 0));
        var waiting = queue.WaitToEnqueueAsync(CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();

        queue.TryReceive(out _, out _);

        (await waiting.WaitAsync(TimeSpan.FromSeconds(30))).Should().BeTrue();
    }

    [Fact]
    public async Task A_completed_queue_still_hands_out_what_it_holds_then_reports_the_end()
    {
        var queue = Create(capacity: 4);
        queue.TryEnqueue(Message(1, 0));
        queue.Complete();

        queue.TryEnqueue(Message(2, 0)).Should().BeFalse();
        (await queue.WaitToReceiveAsync(CancellationToken.None)).Should().BeTrue();
        TakeAll(queue).Should().Equal(1);
        (await queue.WaitToReceiveAsync(CancellationToken.None)).Should().BeFalse();
        (await queue.WaitToEnqueueAsync(CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Concurrent_producers_and_consumers_lose_and_repeat_nothing()
    {
        var queue = Create(capacity: 8);
        const int perProducer = 20_000;
        var producers = Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < perProducer; i++)
            {
                var message = Message((p * perProducer) + i, (byte)(i % 10));
                while (!queue.TryEnqueue(message))
                {
                    (await queue.WaitToEnqueueAsync(CancellationToken.None)).Should().BeTrue();
                }
            }
        })).ToArray();
        var consumers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            var taken = new List<int>();
            while (await queue.WaitToReceiveAsync(CancellationToken.None))
            {
                while (queue.TryReceive(out var envelope, out var lease) && lease == QueueLane.NoLease)
                {
                    taken.Add((int)envelope.Message);
                }
            }

            return taken;
        })).ToArray();

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
        queue.Complete();
        var taken = await Task.WhenAll(consumers).WaitAsync(TimeSpan.FromSeconds(60));

        taken.SelectMany(t => t).Order().Should().Equal(Enumerable.Range(0, 2 * perProducer));
    }
}
