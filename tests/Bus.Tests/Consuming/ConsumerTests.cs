using System.Collections.Concurrent;
using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Consuming;

public sealed class ConsumerTests
{
    [Fact]
    public async Task Two_consumers_of_one_event_each_get_every_message()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<RecordingConsumer<OrderPlaced>>()
            .AddConsumer<SecondOrderConsumer>());

        for (var i = 0; i < 10; i++)
        {
            await bus.Publisher.PublishAsync(new OrderPlaced(i));
        }

        await bus.IdleAsync();
        bus.Recorder.Messages<OrderPlaced>("RecordingConsumer`1").Should().HaveCount(10);
        bus.Recorder.Messages<OrderPlaced>(nameof(SecondOrderConsumer)).Should().HaveCount(10);
    }

    [Fact]
    public async Task A_consumer_of_two_message_types_receives_both_on_its_queue()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<OrderAndPaymentConsumer>());

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Publisher.PublishAsync(new PaymentCompleted(1));
        await bus.IdleAsync();

        bus.Recorder.All.Select(r => r.Message).Should().BeEquivalentTo(new object[] { new OrderPlaced(1), new PaymentCompleted(1) });
        bus.Recorder.All.Select(r => r.Queue).Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task Scoped_consumers_get_a_new_scope_for_every_message()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<ScopedDependencyConsumer>(),
            s => s.AddScoped<ScopedDependency>().AddSingleton<Seen<ScopedDependency>>());

        for (var i = 0; i < 5; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();
        var seen = bus.Get<Seen<ScopedDependency>>().Items;
        seen.Should().HaveCount(5).And.OnlyHaveUniqueItems();
        seen.Should().OnlyContain(d => d.Disposed, "each message's scope is disposed when its consumer returns");
    }

    [Fact]
    public async Task A_singleton_consumer_is_created_once()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<InstanceCountingConsumer>(c => c.Lifetime = ConsumerLifetime.Singleton),
            s => s.AddSingleton<Seen<InstanceCountingConsumer>>());

        for (var i = 0; i < 5; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();
        bus.Get<Seen<InstanceCountingConsumer>>().Items.Distinct().Should().ContainSingle();
    }

    [Fact]
    public async Task A_consumer_that_throws_is_logged_counted_and_dead_lettered_and_the_next_message_is_consumed()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<ThrowingConsumer>(c => c.Queue = "fragile"));

        await bus.Publisher.PublishAsync(new Job(-1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().Equal(new Job(2));
        var statistics = bus.Bus.GetStatistics().GetQueue("fragile");
        (statistics.Consumed, statistics.Faulted, statistics.DeadLettered).Should().Be((1L, 1L, 1L));
        var error = bus.Logs.Entries.Should().ContainSingle(e => e.Level == LogLevel.Error).Subject;
        error.EventId.Should().Be(23);
        error.Exception.Should().BeOfType<InvalidOperationException>().Which.Message.Should().Be("negative job");
        error.Message.Should().Contain("fragile").And.Contain(nameof(DeadLetterReason.Failed)).And.Contain("allows no retries");
        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        deadLetter.Message.Should().Be(new Job(-1));
        deadLetter.Error!.Message.Should().Be("negative job");
    }

    [Fact]
    public async Task A_message_its_queue_has_no_consumer_for_is_dead_lettered_and_logged()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("jobs")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "jobs"));

        await bus.Publisher.SendAsync("jobs", new OrderPlaced(1));
        await bus.IdleAsync();

        bus.Bus.GetStatistics().GetQueue("jobs").DeadLettered.Should().Be(1);
        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == 23 && e.Message.Contains(nameof(OrderPlaced)) && e.Message.Contains("NoConsumer"));
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.NoConsumer);
    }

    public sealed class SecondOrderConsumer(Recorder recorder) : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(SecondOrderConsumer));
            return default;
        }
    }

    public sealed class OrderAndPaymentConsumer(Recorder recorder) : IConsumer<OrderPlaced>, IConsumer<PaymentCompleted>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(OrderAndPaymentConsumer));
            return default;
        }

        public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken)
        {
            recorder.Record(context, nameof(OrderAndPaymentConsumer));
            return default;
        }
    }

    public sealed class Seen<T>
    {
        public ConcurrentBag<T> Items { get; } = [];
    }

    public sealed class ScopedDependency : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    public sealed class ScopedDependencyConsumer(ScopedDependency dependency, Seen<ScopedDependency> seen) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            seen.Items.Add(dependency);
            return default;
        }
    }

    public sealed class InstanceCountingConsumer(Seen<InstanceCountingConsumer> seen) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            seen.Items.Add(this);
            return default;
        }
    }

    public sealed class ThrowingConsumer(Recorder recorder) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            if (context.Message.Id < 0)
            {
                throw new InvalidOperationException("negative job");
            }

            recorder.Record(context, nameof(ThrowingConsumer));
            return default;
        }
    }
}
