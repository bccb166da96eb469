using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Diagnostics;

public sealed class LoggingScopeTests
{
    private static async Task<(TestBus Bus, ScopeCapturingLoggerProvider Logs)> StartAsync(Action<BusOptions>? options = null)
    {
        var logs = new ScopeCapturingLoggerProvider();
        var bus = await TestBus.StartAsync(
            b => b.Configure(o => options?.Invoke(o)).AddConsumer<LoggingConsumer>(c => c.Queue = "jobs"),
            s => s.AddLogging(l => l.AddProvider(logs)));
        return (bus, logs);
    }

    private static IReadOnlyList<ScopedEntry> ConsumerLines(ScopeCapturingLoggerProvider logs) =>
        [.. logs.Entries.Where(e => e.Category.EndsWith(nameof(LoggingConsumer), StringComparison.Ordinal))];

    [Fact]
    public async Task A_consumer_log_line_carries_the_message_id_and_correlation_id_of_its_delivery()
    {
        var (bus, logs) = await StartAsync();
        await using var _ = bus;
        var correlationId = Guid.NewGuid();

        await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { CorrelationId = correlationId });
        await bus.IdleAsync();

        var envelope = bus.Recorder.All.Should().ContainSingle().Subject.Envelope;
        var line = ConsumerLines(logs).Single(e => e.Message == "handling job 1");
        line.Scoped("MessageId").Should().Be(envelope.MessageId);
        line.Scoped("CorrelationId").Should().Be(correlationId);
        line.Scoped("MessageType").Should().Be(typeof(Job));
        line.Scoped("Queue").Should().Be("jobs");
    }

    [Fact]
    public async Task The_scope_stays_with_the_consumer_across_its_awaits()
    {
        var (bus, logs) = await StartAsync();
        await using var _ = bus;

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        var envelope = bus.Recorder.All.Should().ContainSingle().Subject.Envelope;
        var line = ConsumerLines(logs).Single(e => e.Message == "done with job 1");
        (line.Scoped("MessageId"), line.Scoped("CorrelationId")).Should().Be(((object)envelope.MessageId, (object)envelope.CorrelationId));
    }

    [Fact]
    public async Task Each_delivery_through_the_same_consumer_logs_with_its_own_ids()
    {
        var (bus, logs) = await StartAsync();
        await using var _ = bus;

        for (var i = 1; i <= 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.IdleAsync();

        var envelopes = bus.Recorder.All.ToDictionary(r => ((Job)r.Message).Id, r => r.Envelope);
        envelopes.Should().HaveCount(3);
        foreach (var (id, envelope) in envelopes)
        {
            ConsumerLines(logs).Where(e => e.Message.EndsWith($"job {id}", StringComparison.Ordinal))
                .Should().HaveCount(2).And.OnlyContain(e => Equals(e.Scoped("MessageId"), envelope.MessageId) && Equals(e.Scoped("CorrelationId"), envelope.CorrelationId));
        }
    }

    [Fact]
    public async Task A_log_line_written_outside_a_delivery_carries_no_delivery_scope()
    {
        var (bus, logs) = await StartAsync();
        await using var _ = bus;
        var logger = bus.Get<ILogger<LoggingScopeTests>>();

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();
        logger.LogInformation("after the delivery");

        logs.Entries.Single(e => e.Message == "after the delivery").Scoped("MessageId").Should().BeNull();
    }

    [Fact]
    public async Task With_log_scopes_turned_off_consumer_lines_carry_no_message_id()
    {
        var (bus, logs) = await StartAsync(o => o.LogScopes = false);
        await using var _ = bus;

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        ConsumerLines(logs).Should().HaveCount(2).And.OnlyContain(e => e.Scoped("MessageId") == null);
    }

    /// <summary>Logs once as it starts and once after an await that leaves the delivery's thread.</summary>
    public sealed class LoggingConsumer(ILogger<LoggingConsumer> logger, Recorder recorder) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
        {
            logger.LogInformation("handling job {Id}", context.Message.Id);
            await Task.Yield();
            logger.LogInformation("done with job {Id}", context.Message.Id);
            recorder.Record(context, nameof(LoggingConsumer));
        }
    }
}
