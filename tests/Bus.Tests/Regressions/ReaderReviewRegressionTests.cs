using System.Collections.Concurrent;
using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

/// <summary>
/// Defects an adversarial review found in the read loops and slots of the rewrite, each pinned by the test that
/// showed it: a deletion took over consumers that still ran, an idle wait slept through a queue declaration, a slot
/// freed behind a blocking consumer was left unused, and consumers inherited the starter's ambient context.
/// </summary>
public sealed class ReaderReviewRegressionTests
{
    [Fact]
    public async Task A_deletion_without_a_token_lets_every_running_consumer_finish_and_takes_nothing_over()
    {
        await using var bus = await TestBus.StartAsync(b => b.Configure(o => o.DeadLetterCapacity = 100_000), s => s.AddLedger());
        var ledger = bus.Get<Ledger>();
        for (var round = 0; round < 100; round++)
        {
            var queue = $"work-{round}";
            bus.Bus.Topology.DeclareQueue(queue, new QueueOptions { Concurrency = 4, Capacity = 256 });
            bus.Bus.Topology.AddConsumer<YieldingConsumer>(queue, ConsumerLifetime.Singleton);
            for (var id = round * 50; id < (round * 50) + 50; id++)
            {
                await bus.Publisher.SendAsync(queue, new Job(id));
            }

            var report = await bus.Bus.Topology.DeleteQueueAsync(queue).WithinGuardAsync("The deletion");

            report.Unprocessed.Should().BeEmpty($"a deletion without a token drains its queue (round {round})");
            report.Drained.Should().BeTrue();
        }

        ledger.Acknowledged.Should().HaveCount(100 * 50).And.OnlyContain(a => a.Value == 1);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().BeEmpty();
    }

    [Fact]
    public async Task An_idle_wait_racing_queue_declarations_completes()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue("existing"));
        for (var round = 0; round < 10; round++)
        {
            var declared = 0;
            var declarer = Task.Run(() =>
            {
                for (; Volatile.Read(ref declared) < 1_000; Interlocked.Increment(ref declared))
                {
                    bus.Bus.Topology.DeclareQueue($"r{round}-{declared}");
                }
            });
            var waits = Enumerable.Range(0, 8).Select(_ => Task.Run(() => bus.Bus.WaitForIdleAsync())).ToArray();
            await declarer.WaitAsync(TestBus.Timeout);

            await Task.WhenAll(waits).WithinGuardAsync("Waiting for idle on an empty bus");
        }
    }

    [Fact]
    public async Task A_slot_freed_while_the_only_loop_blocks_in_a_consumer_takes_the_waiting_message()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("work", q => q.Concurrency = 2).AddConsumer<ScriptedConsumer>(c => { c.Queue = "work"; c.Lifetime = ConsumerLifetime.Singleton; }),
            s => s.AddSingleton<ScriptedConsumer.Script>());
        var script = bus.Get<ScriptedConsumer.Script>();

        // Jobs 1 and 2 hold both slots asynchronously: the read loop waits for a slot, idle.
        await bus.Publisher.SendAsync("work", new Job(1));
        await bus.Publisher.SendAsync("work", new Job(2));
        await script.Started(1);
        await script.Started(2);

        // Job 1 ends: the loop takes its slot and blocks its thread on job 3 until job 4 is consumed. Job 4 waits in the
        // queue until job 2 frees the other slot, which no loop is waiting for any more.
        await bus.Publisher.SendAsync("work", new Job(3));
        await bus.Publisher.SendAsync("work", new Job(4));
        script.Release(1);
        await script.Started(3);
        script.Release(2);

        (await script.Job3Unblocked.Task.WaitAsync(TestBus.Timeout)).Should().BeTrue("job 4 was consumed by another loop while job 3 blocked");
        await bus.IdleAsync();
    }

    [Fact]
    public async Task Consumers_do_not_inherit_the_ambient_context_of_whoever_started_the_bus()
    {
        var ambient = new AsyncLocal<string?> { Value = "set by the code that starts the bus" };
        var seen = new ConcurrentBag<string?>();
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<AmbientReader>(c => c.Lifetime = ConsumerLifetime.Singleton),
            s => s.AddSingleton(new AmbientReader.Probe(() => ambient.Value, seen)));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        seen.Should().ContainSingle().Which.Should().BeNull();
    }

    public sealed class YieldingConsumer : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => await Task.Yield();
    }

    public sealed class AmbientReader(AmbientReader.Probe probe) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            probe.Seen.Add(probe.Read());
            return default;
        }

        public sealed record Probe(Func<string?> Read, ConcurrentBag<string?> Seen);
    }

    /// <summary>Jobs 1 and 2 wait for their release; job 3 blocks its thread until job 4 is consumed.</summary>
    public sealed class ScriptedConsumer(ScriptedConsumer.Script script) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            var id = context.Message.Id;
            script.Signal(id).TrySetResult();
            switch (id)
            {
                case 1 or 2:
                    await script.Released(id).Task;
                    break;
                case 3:
                    script.Job3Unblocked.TrySetResult(script.Job4Consumed.Wait(TestBus.Timeout, cancellationToken));
                    break;
                case 4:
                    script.Job4Consumed.Set();
                    break;
            }
        }

        public sealed class Script
        {
            private readonly ConcurrentDictionary<int, TaskCompletionSource> _started = new();
            private readonly ConcurrentDictionary<int, TaskCompletionSource> _released = new();

            public ManualResetEventSlim Job4Consumed { get; } = new();

            public TaskCompletionSource<bool> Job3Unblocked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public TaskCompletionSource Signal(int id) => _started.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

            public TaskCompletionSource Released(int id) => _released.GetOrAdd(id, _ => new(TaskCreationOptions.RunContinuationsAsynchronously));

            public Task Started(int id) => Signal(id).Task.WaitAsync(TestBus.Timeout);

            public void Release(int id) => Released(id).TrySetResult();
        }
    }
}
