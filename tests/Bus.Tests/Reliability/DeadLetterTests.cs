using Bus.Tests.Support;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Reliability;

public sealed class DeadLetterTests
{
    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder>? more = null) =>
        TestBus.StartAsync(
            b =>
            {
                b.AddQueue("jobs").AddConsumer<FlakyConsumer>(c => c.Queue = "jobs")
                    .AddQueue("rescue").AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "rescue");
                more?.Invoke(b);
            },
            s => s.AddSingleton<Script>());

    private static async Task FailAsync(TestBus bus, params int[] ids)
    {
        foreach (var id in ids)
        {
            bus.Get<Script>().FailuresLeft[id] = int.MaxValue;
            await bus.Publisher.SendAsync("jobs", new Job(id));
        }

        await bus.IdleAsync();
    }

    [Fact]
    public async Task Replaying_a_dead_letter_after_the_fix_delivers_it_again_and_removes_it()
    {
        await using var bus = await StartAsync();
        await FailAsync(bus, 1);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Single();

        bus.Get<Script>().Fixed = true;
        var replayed = await bus.Bus.ReplayAsync(deadLetter.Id);
        await bus.IdleAsync();

        replayed.Should().BeTrue();
        bus.Get<Script>().Consumed[1].Should().Be(1);
        bus.Get<Script>().Attempts.Last().Delivery.Should().Be(1, "a replay starts its retries afresh");
        bus.Get<IDeadLetterStore>().Count.Should().Be(0);
        bus.Logs.Entries.Should().Contain(e => e.EventId == 26);
    }

    [Fact]
    public async Task A_dead_letter_can_be_replayed_into_another_queue()
    {
        await using var bus = await StartAsync();
        await FailAsync(bus, 1);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Single();

        await bus.Bus.ReplayAsync(deadLetter.Id, "rescue");
        await bus.IdleAsync();

        bus.Recorder.In("rescue").Should().ContainSingle().Which.Envelope.MessageId.Should().Be(deadLetter.Envelope.MessageId);
    }

    [Fact]
    public async Task Replaying_into_an_unknown_queue_names_it_and_keeps_the_dead_letter()
    {
        await using var bus = await StartAsync();
        await FailAsync(bus, 1);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Single();

        var replay = async () => await bus.Bus.ReplayAsync(deadLetter.Id, "nowhere");

        (await replay.Should().ThrowAsync<ArgumentException>()).Which.Message.Should().Contain("'nowhere'");
        (await bus.Get<IDeadLetterStore>().GetAsync(deadLetter.Id)).Should().NotBeNull();
    }

    [Fact]
    public async Task Replaying_an_unknown_id_returns_false()
    {
        await using var bus = await StartAsync();

        (await bus.Bus.ReplayAsync(Guid.NewGuid())).Should().BeFalse();
    }

    [Fact]
    public async Task Dead_letters_can_be_queried_replayed_and_purged_by_criteria()
    {
        await using var bus = await StartAsync(b => b.AddQueue("orders").AddConsumer<PoisonOrderConsumer>(c => c.Queue = "orders"));
        await FailAsync(bus, 1, 2);
        bus.Time.Advance(TimeSpan.FromMinutes(5));
        await bus.Publisher.SendAsync("orders", new OrderPlaced(9));
        await bus.IdleAsync();
        var store = bus.Get<IDeadLetterStore>();

        (await store.QueryAsync(new DeadLetterQuery { Queue = "jobs" })).Should().HaveCount(2);
        (await store.QueryAsync(new DeadLetterQuery { MessageType = typeof(OrderPlaced) })).Should().ContainSingle();
        (await store.QueryAsync(new DeadLetterQuery { Reason = DeadLetterReason.Rejected })).Should().ContainSingle();
        (await store.QueryAsync(new DeadLetterQuery { From = bus.Time.GetUtcNow() })).Should().ContainSingle();
        (await store.QueryAsync(new DeadLetterQuery { Limit = 1 })).Single().Message.Should().Be(new Job(1));

        bus.Get<Script>().Fixed = true;
        (await bus.Bus.ReplayAsync(new DeadLetterQuery { Queue = "jobs" })).Should().Be(2);
        await bus.IdleAsync();
        bus.Get<Script>().Consumed.Keys.Should().BeEquivalentTo([1, 2]);

        (await store.PurgeAsync(new DeadLetterQuery { Reason = DeadLetterReason.Rejected })).Should().Be(1);
        store.Count.Should().Be(0);
    }

    [Fact]
    public async Task A_dead_letter_can_be_fetched_and_deleted_by_id()
    {
        await using var bus = await StartAsync();
        await FailAsync(bus, 1);
        var store = bus.Get<IDeadLetterStore>();
        var id = (await store.QueryAsync()).Single().Id;

        (await store.GetAsync(id))!.Message.Should().Be(new Job(1));
        (await store.RemoveAsync(id)).Should().BeTrue();
        (await store.RemoveAsync(id)).Should().BeFalse();
        (await store.GetAsync(id)).Should().BeNull();
    }

    [Fact]
    public async Task The_in_memory_store_evicts_the_oldest_beyond_its_capacity_and_says_so()
    {
        await using var bus = await StartAsync(b => b.Configure(o => o.DeadLetterCapacity = 3));

        await FailAsync(bus, 1, 2, 3, 4, 5);

        var store = bus.Get<IDeadLetterStore>();
        (await store.QueryAsync()).Select(d => ((Job)d.Message).Id).Should().Equal(3, 4, 5);
        bus.Bus.GetStatistics().DeadLettersEvicted.Should().Be(2);
        bus.Logs.Entries.Where(e => e.EventId == 27).Should().HaveCount(2);
        bus.Bus.GetStatistics().DeadLetters.Should().Be(3);
    }

    [Fact]
    public async Task A_message_dropped_by_a_full_queue_is_dead_lettered_as_overflow()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => { c.Queue = "small"; c.QueueOptions.Capacity = 1; c.QueueOptions.FullMode = QueueFullMode.DropOldest; }),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        await bus.Publisher.PublishAsync(new Job(2));
        await bus.Publisher.PublishAsync(new Job(3));
        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message, deadLetter.Attempts).Should().Be((DeadLetterReason.Overflow, (object)new Job(2), 0));
        bus.Bus.GetStatistics().GetQueue("small").DeadLettered.Should().Be(1);
    }

    [Fact]
    public async Task A_replacement_store_receives_the_dead_letters()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("jobs").AddConsumer<FlakyConsumer>(c => c.Queue = "jobs"),
            s => s.AddSingleton<Script>().AddSingleton<IDeadLetterStore, ListStore>());

        await FailAsync(bus, 4);

        ((ListStore)bus.Get<IDeadLetterStore>()).Added.Should().ContainSingle().Which.Message.Should().Be(new Job(4));
    }

    [Fact]
    public void An_invalid_dead_letter_capacity_fails_validation()
    {
        var create = () => TestBus.Create(b => b.Configure(o => o.DeadLetterCapacity = 0));

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("DeadLetterCapacity");
    }

    public sealed class PoisonOrderConsumer : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            context.Reject("no such customer");
            return default;
        }
    }

    /// <summary>A store of a user's own, to show the seam.</summary>
    public sealed class ListStore : IDeadLetterStore
    {
        public List<DeadLetter> Added { get; } = [];

        public int Count => Added.Count;

        public ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default)
        {
            lock (Added)
            {
                Added.Add(deadLetter);
            }

            return default;
        }

        public ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default) =>
            new([.. Added.Where(d => query?.Matches(d) ?? true)]);

        public ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default) => new(Added.Find(d => d.Id == id));

        public ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default) => new(Added.RemoveAll(d => d.Id == id) > 0);

        public ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default) =>
            new(Added.RemoveAll(d => query?.Matches(d) ?? true));
    }
}
