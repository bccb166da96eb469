using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

public sealed class ExpiryTimeoutAndDeduplicationTests
{
    /// <summary>A consumer held at the gate with job 0, so the next messages wait in the queue.</summary>
    private static async Task<TestBus> StartHeldAsync(Action<QueueOptions> queue)
    {
        var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => { c.Queue = "jobs"; queue(c.QueueOptions); }),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(0));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        return bus;
    }

    [Fact]
    public async Task A_message_whose_time_to_live_ran_out_is_dead_lettered_instead_of_delivered_late()
    {
        await using var bus = await StartHeldAsync(_ => { });
        await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { TimeToLive = TimeSpan.FromSeconds(5) });
        await bus.Publisher.PublishAsync(new Job(2), new PublishOptions { TimeToLive = TimeSpan.FromSeconds(60) });

        bus.Time.Advance(TimeSpan.FromSeconds(5));
        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 2);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message, deadLetter.Attempts).Should().Be((DeadLetterReason.Expired, (object)new Job(1), 0));
        bus.Bus.GetStatistics().GetQueue("jobs").Expired.Should().Be(1);
    }

    [Fact]
    public async Task A_queue_time_to_live_expires_messages_and_the_shorter_of_two_wins()
    {
        await using var bus = await StartHeldAsync(q => q.TimeToLive = TimeSpan.FromSeconds(10));
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2), new PublishOptions { TimeToLive = TimeSpan.FromSeconds(3) });
        bus.Time.Advance(TimeSpan.FromSeconds(3));
        await bus.Publisher.PublishAsync(new Job(3));

        bus.Time.Advance(TimeSpan.FromSeconds(7));
        bus.Get<Gate>().Open();
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(0, 3);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Select(d => ((Job)d.Message).Id).Should().BeEquivalentTo([1, 2]);
    }

    [Fact]
    public async Task A_time_to_live_beyond_the_limit_is_refused()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        var publish = async () => await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { TimeToLive = TimeSpan.FromDays(50) });

        (await publish.Should().ThrowAsync<ArgumentOutOfRangeException>()).Which.ParamName.Should().Be("timeToLive");
    }

    [Fact]
    public async Task A_consumer_over_its_time_is_cancelled_and_its_message_fails_while_the_queue_moves_on()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<StubbornConsumer>(c => { c.Queue = "slow"; c.QueueOptions.ConsumerTimeout = TimeSpan.FromSeconds(30); }),
            s => s.AddSingleton<Gate>().AddSingleton<StubbornConsumer.Seen>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        bus.Time.Advance(TimeSpan.FromSeconds(30));
        await bus.IdleAsync();

        var seen = bus.Get<StubbornConsumer.Seen>();
        seen.TokenCancelled.Task.IsCompleted.Should().BeTrue("the stuck consumer's token is cancelled");
        seen.Finished.Should().ContainSingle().Which.Should().Be(2);
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        (deadLetter.Reason, deadLetter.Message).Should().Be((DeadLetterReason.ConsumerTimeout, (object)new Job(1)));
        bus.Logs.Entries.Should().Contain(e => e.EventId == 25);
        bus.Get<Gate>().Open();
    }

    [Fact]
    public async Task A_duplicate_of_a_consumed_message_is_skipped()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => { c.Queue = "jobs"; c.QueueOptions.DeduplicationCapacity = 100; }));
        var options = new PublishOptions { MessageId = Guid.NewGuid() };

        await bus.Publisher.PublishAsync(new Job(1), options);
        await bus.Publisher.PublishAsync(new Job(1), options);
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Select(j => j.Id).Should().Equal(1, 2);
        bus.Bus.GetStatistics().GetQueue("jobs").Duplicates.Should().Be(1);
    }

    [Fact]
    public async Task The_deduplication_window_forgets_the_oldest_ids_beyond_its_capacity()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>(c => { c.Queue = "jobs"; c.QueueOptions.DeduplicationCapacity = 2; }));
        var ids = Enumerable.Range(0, 3).Select(_ => Guid.NewGuid()).ToArray();

        foreach (var id in ids.Append(ids[0]).Append(ids[2]))
        {
            await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { MessageId = id });
        }

        await bus.IdleAsync();
        bus.Recorder.All.Select(r => r.Envelope.MessageId).Should().Equal(ids[0], ids[1], ids[2], ids[0]);
    }

    [Fact]
    public async Task A_failed_message_is_not_remembered_so_its_replay_runs()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<FlakyConsumer>(c => { c.Queue = "jobs"; c.QueueOptions.DeduplicationCapacity = 100; }),
            s => s.AddSingleton<Script>());
        bus.Get<Script>().FailuresLeft[1] = 1;
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        await bus.Bus.ReplayAsync((await bus.Get<IDeadLetterStore>().QueryAsync()).Single().Id);
        await bus.IdleAsync();

        bus.Get<Script>().Consumed[1].Should().Be(1);
    }

    [Fact]
    public async Task Copies_of_one_message_on_competing_consumers_are_consumed_once()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("jobs", q => { q.Concurrency = 4; q.DeduplicationCapacity = 10; })
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));
        var options = new PublishOptions { MessageId = Guid.NewGuid() };

        for (var i = 0; i < 200; i++)
        {
            await bus.Publisher.SendAsync("jobs", new Job(i), options);
        }

        await bus.IdleAsync();
        bus.Recorder.All.Should().ContainSingle();
        bus.Bus.GetStatistics().GetQueue("jobs").Duplicates.Should().Be(199);
    }

    /// <summary>Job 1 never finishes by itself (it ignores its token after noting it); other jobs finish at once.</summary>
    public sealed class StubbornConsumer(Gate gate, StubbornConsumer.Seen seen) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.Message.Id == 1)
            {
                cancellationToken.Register(() => seen.TokenCancelled.TrySetResult());
                await gate.PassAsync(CancellationToken.None);
                return;
            }

            seen.Finished.Add(context.Message.Id);
        }

        public sealed class Seen
        {
            public TaskCompletionSource TokenCancelled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public System.Collections.Concurrent.ConcurrentBag<int> Finished { get; } = [];
        }
    }
}
