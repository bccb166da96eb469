using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Consuming;

public sealed class SelfDeadlockTests
{
    [Fact]
    public async Task A_consumer_publishing_onto_its_own_full_queue_finishes()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("loop", q => { q.Capacity = 1; q.OverflowCapacity = 64; })
            .AddConsumer<SelfFeedingConsumer>(c => c.Queue = "loop"));

        await bus.Publisher.SendAsync("loop", new Job(10));
        await bus.Publisher.SendAsync("loop", new Job(10));
        await bus.IdleAsync();

        // Each Job(n) sends Job(n - 1) to its own queue until n reaches 0: 11 messages per chain.
        bus.Recorder.Messages<Job>().Should().HaveCount(22);
    }

    [Fact]
    public async Task Consumers_publishing_to_each_other_in_a_cycle_of_full_queues_finish()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("ping", q => { q.Capacity = 1; q.OverflowCapacity = 8; })
            .AddQueue("pong", q => { q.Capacity = 1; q.OverflowCapacity = 8; })
            .AddConsumer<PingConsumer>(c => c.Queue = "ping")
            .AddConsumer<PongConsumer>(c => c.Queue = "pong"));

        var publishers = Enumerable.Range(0, 4).Select(_ => bus.Publisher.SendAsync("ping", new Ping(50)).AsTask());
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        await bus.IdleAsync();

        bus.Recorder.Messages<Ping>().Count.Should().Be(4 * 26);
        bus.Recorder.Messages<Pong>().Count.Should().Be(4 * 25);
    }

    [Fact]
    public async Task A_consumer_publishing_through_an_injected_publisher_does_not_wait_either()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("loop", q => { q.Capacity = 1; q.OverflowCapacity = 64; })
            .AddConsumer<InjectedSelfFeedingConsumer>(c => c.Queue = "loop"));

        await bus.Publisher.SendAsync("loop", new Job(10));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().HaveCount(11);
    }

    [Fact]
    public async Task When_the_overflow_is_full_too_the_consumer_gets_QueueFullException_instead_of_a_deadlock()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("loop", q => { q.Capacity = 1; q.OverflowCapacity = 2; }).AddConsumer<FloodingConsumer>(c => c.Queue = "loop"),
            s => s.AddSingleton<FloodOutcome>());

        await bus.Publisher.SendAsync("loop", new Job(1));
        await bus.IdleAsync();

        var outcome = bus.Get<FloodOutcome>();
        outcome.Accepted.Should().Be(3, "one fits the queue and two the overflow");
        outcome.Refusal.Should().BeOfType<QueueFullException>().Which.Message.Should().Contain("overflow");
    }

    public sealed class SelfFeedingConsumer(Recorder recorder) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(SelfFeedingConsumer));
            if (context.Message.Id > 0)
            {
                await context.SendAsync(context.Queue, new Job(context.Message.Id - 1), cancellationToken);
            }
        }
    }

    public sealed class InjectedSelfFeedingConsumer(Recorder recorder, IPublisher publisher) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(InjectedSelfFeedingConsumer));
            if (context.Message.Id > 0)
            {
                await publisher.SendAsync("loop", new Job(context.Message.Id - 1), cancellationToken);
            }
        }
    }

    public sealed class PingConsumer(Recorder recorder) : IConsumer<Ping>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Ping> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(PingConsumer));
            if (context.Message.Hop > 0)
            {
                await context.SendAsync("pong", new Pong(context.Message.Hop - 1), cancellationToken);
            }
        }
    }

    public sealed class PongConsumer(Recorder recorder) : IConsumer<Pong>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Pong> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(PongConsumer));
            await context.SendAsync("ping", new Ping(context.Message.Hop - 1), cancellationToken);
        }
    }

    public sealed class FloodOutcome
    {
        public int Accepted { get; set; }

        public Exception? Refusal { get; set; }
    }

    public sealed class FloodingConsumer(FloodOutcome outcome) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.Message.Id != 1)
            {
                return;
            }

            try
            {
                for (var i = 0; i < 10; i++)
                {
                    await context.SendAsync(context.Queue, new Job(2), cancellationToken);
                    outcome.Accepted++;
                }
            }
            catch (QueueFullException exception)
            {
                outcome.Refusal = exception;
            }
        }
    }
}
