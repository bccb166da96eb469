namespace Bus.Tests.Transport;

public sealed class InMemoryRingQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static Envelope Message(int id) =>
        new(id, typeof(int), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, 1);

    private static List<int> TakeAll(InMemoryRingQueue queue)
    {
        var taken = new List<int>();
        while (queue.TryDequeue(out var envelope))
        {
            taken.Add((int)envelope.Message);
        }

        return taken;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(1000)]
    [InlineData(1024)]
    public void Holds_exactly_its_capacity_and_refuses_more(int capacity)
    {
        var queue = new InMemoryRingQueue(capacity);

        // Several laps, at capacities that are and are not powers of two.
        for (var lap = 0; lap < 3; lap++)
        {
            for (var i = 0; i < capacity; i++)
            {
                queue.TryEnqueue(Message(i)).Should().BeTrue();
                queue.Count.Should().Be(i + 1);
            }

            queue.TryEnqueue(Message(-1)).Should().BeFalse();
            queue.Count.Should().Be(capacity);
            TakeAll(queue).Should().Equal(Enumerable.Range(0, capacity));
            queue.Count.Should().Be(0);
        }
    }

    [Fact]
    public void Hands_messages_out_first_in_first_out_across_the_wrap()
    {
        var queue = new InMemoryRingQueue(5);
        var taken = new List<int>();
        var next = 0;

        // Keep 0 to 4 messages in the ring so that head and tail wrap at different points.
        for (var round = 0; round < 50; round++)
        {
            var add = (round % 5) + 1;
            for (var i = 0; i < add && queue.Count < 5; i++)
            {
                queue.TryEnqueue(Message(next++)).Should().BeTrue();
            }

            for (var i = 0; i < (round % 3) + 1 && queue.TryDequeue(out var envelope); i++)
            {
                taken.Add((int)envelope.Message);
            }
        }

        taken.AddRange(TakeAll(queue));
        taken.Should().Equal(Enumerable.Range(0, next));
    }

    [Fact]
    public void An_empty_queue_hands_out_nothing()
    {
        var queue = new InMemoryRingQueue(4);

        queue.TryDequeue(out var envelope).Should().BeFalse();
        envelope.Message.Should().BeNull();
    }

    [Fact]
    public void A_taken_message_is_no_longer_referenced_by_the_ring()
    {
        var queue = new InMemoryRingQueue(2);
        var weak = EnqueueAndTakeUnreferenced(queue);

        GC.Collect();
        GC.WaitForPendingFinalizers();

        weak.IsAlive.Should().BeFalse();
    }

    [Fact]
    public async Task A_waiting_consumer_wakes_when_a_message_arrives()
    {
        var queue = new InMemoryRingQueue(4);
        var waiting = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();

        queue.TryEnqueue(Message(1)).Should().BeTrue();

        (await waiting.WaitAsync(Timeout)).Should().BeTrue();
        TakeAll(queue).Should().Equal(1);
    }

    [Fact]
    public async Task Each_message_wakes_one_waiting_consumer()
    {
        var queue = new InMemoryRingQueue(4);
        var first = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        var second = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();

        queue.TryEnqueue(Message(1)).Should().BeTrue();
        var woken = await Task.WhenAny(first, second).WaitAsync(Timeout);
        (await woken).Should().BeTrue();
        var other = woken == first ? second : first;
        other.IsCompleted.Should().BeFalse("one message needs one consumer; the other sleeps on");

        queue.TryEnqueue(Message(2)).Should().BeTrue();
        (await other.WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task No_second_consumer_is_woken_while_a_woken_one_has_yet_to_run_and_sharing_out_wakes_the_next()
    {
        var queue = new InMemoryRingQueue(4);
        var first = queue.WaitToDequeueAsync(CancellationToken.None);
        var second = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();

        // The first message wakes the newest waiter; the second message finds it on its way and wakes no one.
        queue.TryEnqueue(Message(1)).Should().BeTrue();
        queue.TryEnqueue(Message(2)).Should().BeTrue();
        first.IsCompleted.Should().BeFalse("the newest waiter is woken first");
        (await second.WaitAsync(Timeout)).Should().BeTrue();
        first.IsCompleted.Should().BeFalse("a woken consumer takes every message there is");

        // The woken consumer took a message from somewhere else and left these: sharing out wakes the next.
        queue.ShareOut();
        (await first.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_consumer_that_takes_a_message_and_finds_more_wakes_the_next()
    {
        var queue = new InMemoryRingQueue(4);
        var first = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        var second = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        queue.TryEnqueue(Message(1)).Should().BeTrue();
        queue.TryEnqueue(Message(2)).Should().BeTrue();
        (await second.WaitAsync(Timeout)).Should().BeTrue();

        queue.TryDequeue(out _).Should().BeTrue();

        (await first.WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_waiter_cancelled_before_the_message_does_not_take_its_wake_up()
    {
        var queue = new InMemoryRingQueue(4);
        using var cancellation = new CancellationTokenSource();
        var waiting = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        var cancelled = queue.WaitToDequeueAsync(cancellation.Token).AsTask();
        await cancellation.CancelAsync();

        queue.TryEnqueue(Message(1)).Should().BeTrue();

        (await waiting.WaitAsync(Timeout)).Should().BeTrue();
        await cancelled.Invoking(t => t.WaitAsync(Timeout)).Should().ThrowAsync<OperationCanceledException>();
    }

    [Fact]
    public async Task A_consumer_does_not_wait_while_a_message_is_stored()
    {
        var queue = new InMemoryRingQueue(4);
        queue.TryEnqueue(Message(1));

        var waiting = queue.WaitToDequeueAsync(CancellationToken.None);

        waiting.IsCompletedSuccessfully.Should().BeTrue();
        (await waiting).Should().BeTrue();
    }

    [Fact]
    public async Task A_consumer_woken_for_nothing_waits_again_and_wakes_for_the_next_message()
    {
        var queue = new InMemoryRingQueue(4);
        var first = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        queue.TryEnqueue(Message(1));
        (await first.WaitAsync(Timeout)).Should().BeTrue();
        TakeAll(queue).Should().Equal(1);

        var second = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        second.IsCompleted.Should().BeFalse();
        queue.TryEnqueue(Message(2));

        (await second.WaitAsync(Timeout)).Should().BeTrue();
        TakeAll(queue).Should().Equal(2);
    }

    [Fact]
    public async Task A_waiting_publisher_wakes_when_room_appears()
    {
        var queue = new InMemoryRingQueue(1);
        queue.TryEnqueue(Message(1));
        var waiting = queue.WaitToEnqueueAsync(CancellationToken.None).AsTask();
        waiting.IsCompleted.Should().BeFalse();

        queue.TryDequeue(out _).Should().BeTrue();

        (await waiting.WaitAsync(Timeout)).Should().BeTrue();
        queue.TryEnqueue(Message(2)).Should().BeTrue();
    }

    [Fact]
    public async Task Every_waiting_publisher_wakes_when_room_appears()
    {
        var queue = new InMemoryRingQueue(2);
        queue.TryEnqueue(Message(1));
        queue.TryEnqueue(Message(2));
        var waiting = Enumerable.Range(0, 3).Select(_ => queue.WaitToEnqueueAsync(CancellationToken.None).AsTask()).ToArray();
        waiting.Should().OnlyContain(w => !w.IsCompleted);

        queue.TryDequeue(out _).Should().BeTrue();

        (await Task.WhenAll(waiting).WaitAsync(Timeout)).Should().Equal(true, true, true);
    }

    [Fact]
    public async Task A_publisher_does_not_wait_while_there_is_room()
    {
        var queue = new InMemoryRingQueue(2);
        queue.TryEnqueue(Message(1));

        var waiting = queue.WaitToEnqueueAsync(CancellationToken.None);

        waiting.IsCompletedSuccessfully.Should().BeTrue();
        (await waiting).Should().BeTrue();
    }

    [Fact]
    public async Task Waits_end_when_cancelled()
    {
        var queue = new InMemoryRingQueue(1);
        using var consumerCancel = new CancellationTokenSource();
        var consumer = queue.WaitToDequeueAsync(consumerCancel.Token).AsTask();
        queue.TryEnqueue(Message(1));
        TakeAll(queue);
        queue.TryEnqueue(Message(2));
        using var publisherCancel = new CancellationTokenSource();
        var publisher = queue.WaitToEnqueueAsync(publisherCancel.Token).AsTask();
        publisher.IsCompleted.Should().BeFalse();

        await publisherCancel.CancelAsync();

        await publisher.Invoking(p => p.WaitAsync(Timeout)).Should().ThrowAsync<OperationCanceledException>();
        (await consumer.WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_cancelled_wait_leaves_the_other_waiters_waiting()
    {
        var queue = new InMemoryRingQueue(4);
        using var cancel = new CancellationTokenSource();
        var cancelled = queue.WaitToDequeueAsync(cancel.Token).AsTask();
        var waiting = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();

        // Windows that pass on an idle queue, as a batch consumer's do, one after another.
        for (var i = 0; i < 100; i++)
        {
            using var window = new CancellationTokenSource();
            var windowed = queue.WaitToDequeueAsync(window.Token).AsTask();
            await window.CancelAsync();
            await windowed.Invoking(w => w.WaitAsync(Timeout)).Should().ThrowAsync<OperationCanceledException>();
        }

        await cancel.CancelAsync();
        await cancelled.Invoking(c => c.WaitAsync(Timeout)).Should().ThrowAsync<OperationCanceledException>();
        waiting.IsCompleted.Should().BeFalse();

        queue.TryEnqueue(Message(1));

        (await waiting.WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_completed_queue_still_hands_out_what_it_holds_then_reports_the_end()
    {
        var queue = new InMemoryRingQueue(4);
        queue.TryEnqueue(Message(1));
        queue.TryEnqueue(Message(2));
        queue.Complete();

        queue.TryEnqueue(Message(3)).Should().BeFalse();
        queue.Count.Should().Be(2);
        (await queue.WaitToDequeueAsync(CancellationToken.None)).Should().BeTrue();
        TakeAll(queue).Should().Equal(1, 2);
        (await queue.WaitToDequeueAsync(CancellationToken.None)).Should().BeFalse();
        (await queue.WaitToEnqueueAsync(CancellationToken.None)).Should().BeFalse();
        queue.Count.Should().Be(0);
    }

    [Fact]
    public async Task Completing_a_full_queue_keeps_every_message()
    {
        var queue = new InMemoryRingQueue(3);
        for (var i = 0; i < 3; i++)
        {
            queue.TryEnqueue(Message(i));
        }

        queue.Complete();

        queue.Count.Should().Be(3);
        (await queue.WaitToEnqueueAsync(CancellationToken.None)).Should().BeFalse();
        TakeAll(queue).Should().Equal(0, 1, 2);
        (await queue.WaitToDequeueAsync(CancellationToken.None)).Should().BeFalse();
    }

    [Fact]
    public async Task Completing_wakes_waiting_consumers_and_publishers()
    {
        var queue = new InMemoryRingQueue(1);
        var consumer = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        var fullQueue = new InMemoryRingQueue(1);
        fullQueue.TryEnqueue(Message(1));
        var publisher = fullQueue.WaitToEnqueueAsync(CancellationToken.None).AsTask();
        consumer.IsCompleted.Should().BeFalse();
        publisher.IsCompleted.Should().BeFalse();

        queue.Complete();
        fullQueue.Complete();

        (await consumer.WaitAsync(Timeout)).Should().BeFalse();
        (await publisher.WaitAsync(Timeout)).Should().BeFalse();
    }

    [Fact]
    public async Task A_consumer_continuation_does_not_run_inside_the_publish()
    {
        var queue = new InMemoryRingQueue(4);
        var publishing = false;
        var publisherThread = Environment.CurrentManagedThreadId;
        var consumer = RanInsidePublishAsync();

        Volatile.Write(ref publishing, true);
        queue.TryEnqueue(Message(1));
        Volatile.Write(ref publishing, false);

        (await consumer.WaitAsync(Timeout)).Should().BeFalse();

        async Task<bool> RanInsidePublishAsync()
        {
            await queue.WaitToDequeueAsync(CancellationToken.None).ConfigureAwait(false);
            return Volatile.Read(ref publishing) && Environment.CurrentManagedThreadId == publisherThread;
        }
    }

    [Fact]
    public async Task Concurrent_producers_and_consumers_lose_and_repeat_nothing()
    {
        for (var run = 0; run < 5; run++)
        {
            await RunStressAsync(capacity: 1 + run, producers: 3, consumers: 2, perProducer: 20_000);
        }

        await RunStressAsync(capacity: 1024, producers: 2, consumers: 3, perProducer: 50_000);
    }

    [Fact]
    public async Task Concurrent_producers_and_consumers_waiting_with_tokens_lose_and_repeat_nothing()
    {
        using var never = new CancellationTokenSource();
        for (var run = 0; run < 3; run++)
        {
            await RunStressAsync(capacity: 2 + run, producers: 2, consumers: 3, perProducer: 20_000, never.Token);
        }
    }

    [Fact]
    public async Task A_single_consumer_sees_each_producers_messages_in_order()
    {
        var queue = new InMemoryRingQueue(7);
        const int perProducer = 30_000;
        var producers = Enumerable.Range(0, 3).Select(p => Task.Run(() => ProduceAsync(queue, p, perProducer))).ToArray();
        var consumer = Task.Run(() => ConsumeAsync(queue));

        await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));
        queue.Complete();
        var taken = await consumer.WaitAsync(TimeSpan.FromSeconds(60));

        for (var p = 0; p < 3; p++)
        {
            var from = p * perProducer;
            taken.Where(id => id >= from && id < from + perProducer).Should().Equal(Enumerable.Range(from, perProducer));
        }
    }

    [Fact]
    public async Task A_drain_after_completion_finds_every_message_accepted_while_completing()
    {
        for (var run = 0; run < 50; run++)
        {
            var queue = new InMemoryRingQueue(InMemoryRingQueue.MaxCapacity);
            using var started = new CountdownEvent(3);
            var producers = Enumerable.Range(0, 3).Select(p => Task.Run(async () =>
            {
                var accepted = 0;
                started.Signal();
                while (true)
                {
                    if (queue.TryEnqueue(Message(p)))
                    {
                        accepted++;
                    }
                    else if (!await queue.WaitToEnqueueAsync(CancellationToken.None).AsTask().WaitAsync(Timeout))
                    {
                        return accepted;
                    }
                }
            })).ToArray();

            started.Wait(Timeout).Should().BeTrue();
            queue.Complete();

            // Drained while publishers may still be writing messages they claimed before the completion.
            var drained = TakeAll(queue);
            var accepted = await Task.WhenAll(producers).WaitAsync(TimeSpan.FromSeconds(60));

            drained.Count.Should().Be(accepted.Sum());
            TakeAll(queue).Should().BeEmpty();
        }
    }

    private static async Task RunStressAsync(
        int capacity, int producers, int consumers, int perProducer, CancellationToken token = default)
    {
        var queue = new InMemoryRingQueue(capacity);
        var producing = Enumerable.Range(0, producers).Select(p => Task.Run(() => ProduceAsync(queue, p, perProducer, token))).ToArray();

        // With a token, one consumer waits without it, so that both kinds of waiter meet.
        var consuming = Enumerable.Range(0, consumers).Select(c => Task.Run(() => ConsumeAsync(queue, c == 0 ? default : token))).ToArray();

        await Task.WhenAll(producing).WaitAsync(TimeSpan.FromSeconds(60));
        queue.Complete();
        var taken = await Task.WhenAll(consuming).WaitAsync(TimeSpan.FromSeconds(60));

        taken.SelectMany(t => t).Order().Should().Equal(Enumerable.Range(0, producers * perProducer));
        queue.Count.Should().Be(0);
    }

    private static async Task ProduceAsync(InMemoryRingQueue queue, int producer, int count, CancellationToken token = default)
    {
        for (var i = 0; i < count; i++)
        {
            var message = Message((producer * count) + i);
            while (!queue.TryEnqueue(message))
            {
                (await queue.WaitToEnqueueAsync(token).AsTask().WaitAsync(Timeout)).Should().BeTrue();
            }
        }
    }

    private static async Task<List<int>> ConsumeAsync(InMemoryRingQueue queue, CancellationToken token = default)
    {
        var taken = new List<int>();
        while (await queue.WaitToDequeueAsync(token).AsTask().WaitAsync(Timeout))
        {
            while (queue.TryDequeue(out var envelope))
            {
                taken.Add((int)envelope.Message);
            }
        }

        return taken;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference EnqueueAndTakeUnreferenced(InMemoryRingQueue queue)
    {
        var message = new object();
        queue.TryEnqueue(new Envelope(message, typeof(object), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, 1));
        queue.TryDequeue(out _).Should().BeTrue();
        return new WeakReference(message);
    }
}
