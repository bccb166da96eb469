using System.Collections.Concurrent;
using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Queues;

public sealed class PartitionTests
{
    [Fact]
    public async Task Messages_with_the_same_key_are_consumed_in_publish_order_one_at_a_time()
    {
        const int keys = 40;
        const int perKey = 100;
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key).Concurrency = 8)
                .AddConsumer<KeyedConsumer>(c => c.Queue = "orders"),
            s => s.AddSingleton<KeyLog>());

        var publishers = Enumerable.Range(0, 4).Select(p => Task.Run(async () =>
        {
            // Each publisher owns ten keys, so the publish order of every key is the sequence number.
            for (var sequence = 0; sequence < perKey; sequence++)
            {
                for (var key = p; key < keys; key += 4)
                {
                    await bus.Publisher.SendAsync("orders", new KeyedJob(key, sequence));
                }
            }
        }));
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        var log = bus.Get<KeyLog>();
        log.Overlaps.Should().Be(0, "no key is ever consumed by two consumers at once");
        for (var key = 0; key < keys; key++)
        {
            log.Sequences(key).Should().Equal(Enumerable.Range(0, perKey), $"key {key} is consumed in publish order");
        }

        log.MaxConcurrency.Should().BeGreaterThan(1, "different keys are consumed in parallel");
    }

    [Fact]
    public async Task A_busy_key_does_not_hold_up_other_keys()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key).Concurrency = 4)
                .AddConsumer<HoldKeyOneConsumer>(c => c.Queue = "orders"),
            s => s.AddSingleton<Gate>());

        await bus.Publisher.SendAsync("orders", new KeyedJob(1, 0));
        await bus.Publisher.SendAsync("orders", new KeyedJob(1, 1));
        await bus.Publisher.SendAsync("orders", new KeyedJob(2, 0));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        await bus.Recorder.WhenCountAsync(1);
        bus.Recorder.Messages<KeyedJob>().Should().Equal(new KeyedJob(2, 0));

        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<KeyedJob>().Where(j => j.Key == 1).Should().Equal(new KeyedJob(1, 0), new KeyedJob(1, 1));
    }

    [Fact]
    public async Task Each_partition_holds_its_share_of_the_capacity()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddQueue("orders", q =>
                {
                    q.PartitionBy<KeyedJob, int>(j => j.Key).Concurrency = 2;
                    q.Capacity = 4;
                    q.FullMode = QueueFullMode.Reject;
                })
                .AddConsumer<GatedConsumer<KeyedJob>>(c => c.Queue = "orders"),
            s => s.AddSingleton<Gate>());

        // Key 0 goes to partition 0: one message in its consumer, two waiting fill its half of the capacity.
        await bus.Publisher.SendAsync("orders", new KeyedJob(0, 0));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        await bus.Publisher.SendAsync("orders", new KeyedJob(0, 1));
        await bus.Publisher.SendAsync("orders", new KeyedJob(0, 2));

        var full = async () => await bus.Publisher.SendAsync("orders", new KeyedJob(0, 3));
        await full.Should().ThrowAsync<QueueFullException>();
        await bus.Publisher.SendAsync("orders", new KeyedJob(1, 0));

        bus.Get<Gate>().Open();
        await bus.IdleAsync();
        bus.Recorder.Messages<KeyedJob>().Should().HaveCount(4);
    }

    [Fact]
    public async Task Messages_without_a_key_are_spread_over_the_partitions()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key).Concurrency = 4)
                .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "orders"));

        for (var i = 0; i < 200; i++)
        {
            await bus.Publisher.SendAsync("orders", new Job(i));
        }

        await bus.IdleAsync();
        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().BeEquivalentTo(Enumerable.Range(0, 200));
    }

    [Fact]
    public async Task Messages_left_in_partitions_are_reported_at_stop()
    {
        var bus = await TestBus.StartAsync(
            b => b
                .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key).Concurrency = 2)
                .AddConsumer<GatedConsumer<KeyedJob>>(c => c.Queue = "orders")
                .Configure(o => o.StopTimeout = TimeSpan.FromSeconds(5)),
            s => s.AddSingleton<Gate>());
        await using var _ = bus;
        for (var key = 0; key < 2; key++)
        {
            for (var sequence = 0; sequence < 3; sequence++)
            {
                await bus.Publisher.SendAsync("orders", new KeyedJob(key, sequence));
            }
        }

        await bus.Get<Gate>().WhenArrivedAsync(2);
        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Unprocessed.Should().HaveCount(6);
        report.Unprocessed.Select(u => (KeyedJob)u.Envelope.Message).Should().BeEquivalentTo(
            from key in Enumerable.Range(0, 2) from sequence in Enumerable.Range(0, 3) select new KeyedJob(key, sequence));
    }

    [Fact]
    public async Task A_key_selector_that_throws_places_the_message_by_id_and_loses_nothing()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key >= 0 ? j.Key : throw new InvalidOperationException("no key")).Concurrency = 2)
            .AddConsumer<RecordingConsumer<KeyedJob>>(c => c.Queue = "orders"));

        await bus.Publisher.SendAsync("orders", new KeyedJob(-1, 0));
        await bus.IdleAsync();

        bus.Recorder.Messages<KeyedJob>().Should().Equal(new KeyedJob(-1, 0));
        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == 32 && e.Message.Contains("orders"));
    }

    [Fact]
    public void A_message_type_given_two_keys_is_refused()
    {
        var create = () => TestBus.Create(b => b
            .AddQueue("orders", q => q.PartitionBy<KeyedJob, int>(j => j.Key).PartitionBy<KeyedJob, int>(j => j.Sequence))
            .AddConsumer<RecordingConsumer<KeyedJob>>(c => c.Queue = "orders"));

        create.Should().Throw<OptionsValidationException>().WithMessage("*'orders'*PartitionBy*twice*KeyedJob*");
    }

    public sealed record KeyedJob(int Key, int Sequence);

    /// <summary>What a partitioned consumer saw: the order per key, and whether a key was ever consumed twice at once.</summary>
    public sealed class KeyLog
    {
        private readonly ConcurrentDictionary<int, ConcurrentQueue<int>> _sequences = new();
        private readonly ConcurrentDictionary<int, int> _busy = new();
        private int _overlaps;
        private int _running;
        private int _maxConcurrency;

        public int Overlaps => Volatile.Read(ref _overlaps);

        public int MaxConcurrency => Volatile.Read(ref _maxConcurrency);

        public IReadOnlyList<int> Sequences(int key) => _sequences.TryGetValue(key, out var sequences) ? [.. sequences] : [];

        public void Enter(KeyedJob job)
        {
            if (_busy.AddOrUpdate(job.Key, 1, (_, n) => n + 1) > 1)
            {
                Interlocked.Increment(ref _overlaps);
            }

            var running = Interlocked.Increment(ref _running);
            int seen;
            while (running > (seen = Volatile.Read(ref _maxConcurrency)) && Interlocked.CompareExchange(ref _maxConcurrency, running, seen) != seen)
            {
            }

            _sequences.GetOrAdd(job.Key, _ => new ConcurrentQueue<int>()).Enqueue(job.Sequence);
        }

        public void Leave(KeyedJob job)
        {
            Interlocked.Decrement(ref _running);
            _busy.AddOrUpdate(job.Key, 0, (_, n) => n - 1);
        }
    }

    /// <summary>Takes a random, short while per message (yields and spins, never the clock), to shuffle the keys.</summary>
    public sealed class KeyedConsumer(KeyLog log) : IConsumer<KeyedJob>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<KeyedJob> context, CancellationToken cancellationToken)
        {
            log.Enter(context.Message);
            for (var i = Random.Shared.Next(4); i > 0; i--)
            {
                await Task.Yield();
            }

            Thread.SpinWait(Random.Shared.Next(2000));
            log.Leave(context.Message);
        }
    }

    public sealed class HoldKeyOneConsumer(Gate gate, Recorder recorder) : IConsumer<KeyedJob>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<KeyedJob> context, CancellationToken cancellationToken)
        {
            if (context.Message.Key == 1)
            {
                await gate.PassAsync(cancellationToken);
            }

            recorder.Record(context, nameof(HoldKeyOneConsumer));
        }
    }
}
