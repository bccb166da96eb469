using System.Collections.Concurrent;
using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

/// <summary>
/// The rule of the reliability design, checked under load: every accepted message is consumed exactly once or is in
/// the dead-letter store exactly once with the right reason. Real threads (8 competing consumers), a fake clock for the
/// delayed retries, and a failure plan decided per (message, attempt) so the expected outcome of every message is known.
/// </summary>
public sealed class DeliveryGuaranteeStressTests
{
    private const int Messages = 100_000;

    [Fact]
    public async Task Every_message_is_consumed_once_or_dead_lettered_once_with_its_reason()
    {
        await using var bus = await TestBus.StartAsync(
            b => b
                .Configure(o => o.DeadLetterCapacity = Messages)
                .AddQueue("work", q =>
                {
                    q.Concurrency = 8;
                    q.RetryPolicy = RetryPolicy.Intervals(TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2));
                })
                .AddConsumer<ChaosConsumer>(c => { c.Queue = "work"; c.Lifetime = ConsumerLifetime.Singleton; }),
            s => s.AddSingleton<ChaosConsumer.Outcome>());

        var publishers = Enumerable.Range(0, 2).Select(p => Task.Run(async () =>
        {
            for (var id = p; id < Messages; id += 2)
            {
                await bus.Publisher.SendAsync("work", new Job(id));
            }
        }));
        await Task.WhenAll(publishers).WaitAsync(TestBus.Timeout);
        for (var round = 0; round < 10; round++)
        {
            await bus.IdleAsync();
            if (bus.Bus.GetStatistics().GetQueue("work").WaitingForRetry == 0)
            {
                break;
            }

            bus.Time.Advance(TimeSpan.FromSeconds(1));
        }

        var consumed = bus.Get<ChaosConsumer.Outcome>().Consumed;
        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync();
        var deadById = deadLetters.GroupBy(d => ((Job)d.Message).Id).ToDictionary(g => g.Key, g => g.ToList());
        for (var id = 0; id < Messages; id++)
        {
            var expected = ChaosConsumer.ExpectedEnd(id);
            if (expected is null)
            {
                consumed.GetValueOrDefault(id).Should().Be(1, $"message {id} is consumed exactly once");
                deadById.ContainsKey(id).Should().BeFalse($"message {id} was consumed");
            }
            else
            {
                consumed.ContainsKey(id).Should().BeFalse($"message {id} must not be consumed");
                deadById.GetValueOrDefault(id).Should().ContainSingle($"message {id} is dead-lettered once").Which.Reason.Should().Be(expected);
            }
        }

        var statistics = bus.Bus.GetStatistics().GetQueue("work");
        (statistics.Consumed + statistics.DeadLettered).Should().Be(Messages);
        (consumed.Count + deadLetters.Count).Should().Be(Messages);
        (statistics.Pending, statistics.WaitingForRetry).Should().Be((0L, 0L));
        statistics.Faulted.Should().BeInRange(Messages / 6, Messages / 3, "about 20% of attempts fail");
    }

    /// <summary>Fails, rejects or goes asynchronous by a fixed plan keyed on the message and the attempt.</summary>
    public sealed class ChaosConsumer(ChaosConsumer.Outcome outcome) : IConsumer<Job>
    {
        private const int MaxAttempts = 4;

        /// <summary>How a message must end: null for consumed, else the dead-letter reason.</summary>
        public static DeadLetterReason? ExpectedEnd(int id)
        {
            if (Rejects(id))
            {
                return DeadLetterReason.Rejected;
            }

            for (var attempt = 1; attempt <= MaxAttempts; attempt++)
            {
                if (!Fails(id, attempt))
                {
                    return null;
                }
            }

            return DeadLetterReason.MaxRetriesExceeded;
        }

        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            var id = context.Message.Id;
            var attempt = context.DeliveryCount;
            if (Roll(id, attempt, 3) < 35)
            {
                await Task.Yield();
            }

            if (attempt == 1 && Rejects(id))
            {
                context.Reject("malformed");
                return;
            }

            if (Fails(id, attempt))
            {
                throw new InvalidOperationException($"attempt {attempt} of {id} fails");
            }

            outcome.Consumed.AddOrUpdate(id, 1, (_, n) => n + 1);
        }

        private static bool Rejects(int id) => Roll(id, 0, 1) < 2;

        private static bool Fails(int id, int attempt) => Roll(id, attempt, 2) < 20;

        private static int Roll(int id, int attempt, int salt) =>
            (int)((uint)HashCode.Combine(id, attempt, salt, 20261125) % 100);

        public sealed class Outcome
        {
            public ConcurrentDictionary<int, int> Consumed { get; } = new();
        }
    }
}
