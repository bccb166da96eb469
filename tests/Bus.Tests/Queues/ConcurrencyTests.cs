using System.Collections.Concurrent;
using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Queues;

public sealed class ConcurrencyTests
{
    [Fact]
    public async Task Competing_consumers_split_the_work_and_nothing_is_delivered_twice()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("work", q => { q.Concurrency = 4; q.Capacity = 64; })
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "work"));

        var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            for (var i = 0; i < 500; i++)
            {
                await bus.Publisher.SendAsync("work", new Job((p * 500) + i));
            }
        }));
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().BeEquivalentTo(Enumerable.Range(0, 2000));
        var statistics = bus.Bus.GetStatistics().GetQueue("work");
        (statistics.Enqueued, statistics.Consumed, statistics.Pending).Should().Be((2000L, 2000L, 0L));
    }

    [Fact]
    public async Task The_concurrency_limit_is_never_exceeded()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("work", q => q.Concurrency = 3).AddConsumer<OverlapConsumer>(c => c.Queue = "work"),
            s => s.AddSingleton<OverlapMeter>());

        for (var i = 0; i < 300; i++)
        {
            await bus.Publisher.SendAsync("work", new Job(i));
        }

        await bus.IdleAsync();
        var meter = bus.Get<OverlapMeter>();
        meter.Total.Should().Be(300);
        meter.Max.Should().BeInRange(1, 3);
    }

    [Fact]
    public async Task Consumers_up_to_the_concurrency_run_at_the_same_time_each_named_by_its_index()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("work", q => q.Concurrency = 3).AddConsumer<GatedConsumer<Job>>(c => c.Queue = "work"),
            s => s.AddSingleton<Gate>());

        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.SendAsync("work", new Job(i));
        }

        await bus.Get<Gate>().WhenArrivedAsync(3);
        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        // Each message names the competing consumer that took it.
        bus.Recorder.All.Select(r => r.ConsumerIndex).Order().Should().Equal(0, 1, 2);
    }

    [Fact]
    public async Task One_consumer_at_a_time_keeps_publish_order()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.QueueOptions.Capacity = 8));

        for (var i = 0; i < 1000; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(Enumerable.Range(0, 1000));
    }

    [Fact]
    public async Task Prefetch_takes_several_messages_off_the_queue_at_once()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue("work", q => q.PrefetchCount = 3), s => s.AddSingleton<Gate>());
        for (var i = 0; i < 4; i++)
        {
            await bus.Publisher.SendAsync("work", new Job(i));
        }

        bus.Bus.Topology.AddConsumer<GatedConsumer<Job>>("work");
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var statistics = bus.Bus.GetStatistics().GetQueue("work");
        (statistics.Depth, statistics.Pending).Should().Be((1, 4L), "the worker holds three messages: one in its consumer, two prefetched");
        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 1, 2, 3);
    }

    [Fact]
    public async Task A_consumer_stuck_in_synchronous_work_does_not_keep_the_other_consumers_asleep()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("work", q => q.Concurrency = 2).AddConsumer<BlockingConsumer>(c => c.Queue = "work"),
            s => s.AddSingleton<Blocker>());
        var blocker = bus.Get<Blocker>();
        await bus.Publisher.SendAsync("work", new Job(0));
        await blocker.Blocked.Task.WaitAsync(TestBus.Timeout);

        // Job 1 arrives while a worker is taking messages, so it wakes no one; that worker is stuck until job 1 is
        // consumed, and the queue's stall check wakes the other. It runs on the system clock: the test's clock is fake
        // and stays still.
        await bus.Publisher.SendAsync("work", new Job(1));

        (await blocker.Released.Task.WaitAsync(TestBus.Timeout)).Should().BeTrue("job 1 was consumed while job 0 blocked");
        await bus.IdleAsync();
    }

    public sealed class Blocker
    {
        public ManualResetEventSlim Job1Consumed { get; } = new();

        public TaskCompletionSource Blocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<bool> Released { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Blocks its thread on job 0 until job 1 is consumed, as synchronous code waiting on another message would.</summary>
    public sealed class BlockingConsumer(Blocker blocker) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.Message.Id == 0)
            {
                blocker.Blocked.TrySetResult();
                blocker.Released.TrySetResult(blocker.Job1Consumed.Wait(TestBus.Timeout, cancellationToken));
            }
            else
            {
                blocker.Job1Consumed.Set();
            }

            return default;
        }
    }

    public sealed class OverlapMeter
    {
        private int _current;
        private int _max;
        private int _total;

        public int Max => Volatile.Read(ref _max);

        public int Total => Volatile.Read(ref _total);

        public void Enter()
        {
            var now = Interlocked.Increment(ref _current);
            int seen;
            while (now > (seen = Volatile.Read(ref _max)) && Interlocked.CompareExchange(ref _max, now, seen) != seen)
            {
            }
        }

        public void Leave()
        {
            Interlocked.Decrement(ref _current);
            Interlocked.Increment(ref _total);
        }
    }

    public sealed class OverlapConsumer(OverlapMeter meter) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            meter.Enter();
            await Task.Yield();
            Thread.SpinWait(1000);
            meter.Leave();
        }
    }
}
