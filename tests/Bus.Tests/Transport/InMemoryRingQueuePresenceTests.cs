using Microsoft.Extensions.Time.Testing;

namespace Bus.Tests.Transport;

/// <summary>
/// The ring with workers that report when they are taking messages (<see cref="IConsumerPresence"/>), as the bus's
/// workers do: a sleeping consumer is woken only when no worker is taking messages, or when the stall check finds the
/// one taking them stuck. A <see cref="ValueTask"/>'s IsCompleted shows a wake-up at once, before its continuation runs.
/// </summary>
public sealed class InMemoryRingQueuePresenceTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new();

    private static Envelope Message(int id) =>
        new(id, typeof(int), Guid.NewGuid(), Guid.Empty, DateTimeOffset.UnixEpoch, "", "", null, 1);

    /// <summary>
    /// Two workers go to sleep; the first message wakes the newer one, which resumes taking messages. Returns the
    /// other's wait.
    /// </summary>
    private static async Task<ValueTask<bool>> WakeOneOfTwoSleepersAsync(InMemoryRingQueue queue, params int[] messages)
    {
        queue.Resume();
        queue.Pause(shareOut: false);
        var other = queue.WaitToDequeueAsync(CancellationToken.None);
        var woken = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        foreach (var message in messages)
        {
            queue.TryEnqueue(Message(message)).Should().BeTrue();
        }

        (await woken.WaitAsync(Timeout)).Should().BeTrue();
        queue.Resume();
        return other;
    }

    [Fact]
    public void A_new_message_wakes_no_one_while_a_worker_is_taking_messages()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);

        queue.TryEnqueue(Message(1)).Should().BeTrue();

        sleeper.IsCompleted.Should().BeFalse("the worker taking messages takes this one too");
    }

    [Fact]
    public async Task A_new_message_wakes_a_sleeper_once_no_worker_is_taking_messages()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        queue.Pause(shareOut: false);
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);

        queue.TryEnqueue(Message(1)).Should().BeTrue();

        (await sleeper.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_worker_whose_delivery_goes_asynchronous_wakes_a_sleeper_for_the_messages_waiting()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        queue.TryEnqueue(Message(1)).Should().BeTrue();
        queue.TryEnqueue(Message(2)).Should().BeTrue();
        queue.TryDequeue(out _).Should().BeTrue();
        sleeper.IsCompleted.Should().BeFalse();

        queue.Pause(shareOut: true);

        (await sleeper.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public void A_worker_that_pauses_to_wait_wakes_no_one()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        queue.TryEnqueue(Message(1)).Should().BeTrue();

        queue.Pause(shareOut: false);

        sleeper.IsCompleted.Should().BeFalse("the pausing worker finds the message itself before it waits");
        queue.WaitToDequeueAsync(CancellationToken.None).IsCompletedSuccessfully.Should().BeTrue();
    }

    [Fact]
    public async Task The_stall_check_wakes_a_sleeper_when_the_worker_taking_messages_stops_making_progress()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        queue.TryEnqueue(Message(1)).Should().BeTrue();

        sleeper.IsCompleted.Should().BeFalse();

        _time.Advance(InMemoryRingQueue.StallCheckPeriod);

        (await sleeper.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task The_stall_check_leaves_sleepers_asleep_while_the_consumers_keep_running_out_of_messages()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        queue.TryEnqueue(Message(1)).Should().BeTrue();
        queue.TryDequeue(out _).Should().BeTrue();

        // A consumer runs out of messages and waits; then a message arrives while the worker is still taking them.
        var drained = queue.WaitToDequeueAsync(CancellationToken.None).AsTask();
        queue.TryEnqueue(Message(2)).Should().BeTrue();
        _time.Advance(InMemoryRingQueue.StallCheckPeriod);
        sleeper.IsCompleted.Should().BeFalse("the consumers ran out of messages since the last look");
        drained.IsCompleted.Should().BeFalse();

        _time.Advance(InMemoryRingQueue.StallCheckPeriod);

        (await drained.WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public void The_stall_check_adds_no_consumer_beyond_the_cores_while_those_taking_make_progress()
    {
        var queue = new InMemoryRingQueue(64, _time);
        for (var i = 0; i < Math.Max(1, InMemoryRingQueue.BusyTakersLimit); i++)
        {
            queue.Resume();
        }

        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        var id = 0;
        queue.TryEnqueue(Message(id++)).Should().BeTrue();
        for (var tick = 0; tick < 5; tick++)
        {
            // Each period the consumers take a message and never run out.
            queue.TryEnqueue(Message(id++)).Should().BeTrue();
            queue.TryDequeue(out _).Should().BeTrue();
            _time.Advance(InMemoryRingQueue.StallCheckPeriod);
        }

        sleeper.IsCompleted.Should().BeFalse("more synchronous consumers than cores would only take turns");
    }

    [Fact]
    public async Task The_stall_check_covers_a_woken_consumer_that_blocks_on_its_first_message()
    {
        var queue = new InMemoryRingQueue(4, _time);

        // The second message arrives while the first one's consumer is on its way, so it wakes no one.
        var other = await WakeOneOfTwoSleepersAsync(queue, 1, 2);
        queue.TryDequeue(out _).Should().BeTrue();

        // Its consumer now blocks on message 1; message 2 must not wait for it. The first look sees message 1 taken,
        // the second that nothing moved since.
        _time.Advance(InMemoryRingQueue.StallCheckPeriod);
        _time.Advance(InMemoryRingQueue.StallCheckPeriod);

        (await other.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public async Task A_worker_that_takes_a_message_from_elsewhere_leaves_the_ring_watched()
    {
        var queue = new InMemoryRingQueue(4, _time);
        var other = await WakeOneOfTwoSleepersAsync(queue, 1);

        // The woken worker took a parked message instead of message 1, and its consumer may block on it.
        queue.ShareOut();
        other.IsCompleted.Should().BeFalse("a worker is taking messages");
        _time.Advance(InMemoryRingQueue.StallCheckPeriod);

        (await other.AsTask().WaitAsync(Timeout)).Should().BeTrue();
    }

    [Fact]
    public void The_stall_check_wakes_no_one_once_no_message_waits()
    {
        var queue = new InMemoryRingQueue(4, _time);
        queue.Resume();
        var sleeper = queue.WaitToDequeueAsync(CancellationToken.None);
        queue.TryEnqueue(Message(1)).Should().BeTrue();
        queue.TryDequeue(out _).Should().BeTrue();

        for (var i = 0; i < 3; i++)
        {
            _time.Advance(InMemoryRingQueue.StallCheckPeriod);
        }

        sleeper.IsCompleted.Should().BeFalse();
    }
}
