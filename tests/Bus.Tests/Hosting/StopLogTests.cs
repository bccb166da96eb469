using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Hosting;

/// <summary>What the stop logs is true: the limit that applies, and how the accepted messages ended.</summary>
public sealed class StopLogTests
{
    [Fact]
    public async Task The_stop_log_counts_consumed_and_dead_lettered_messages_instead_of_calling_them_processed()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>().AddConsumer<AlwaysFails>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.IdleAsync();

        await bus.Bus.StopAsync();

        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == 3)
            .Which.Message.Should().Contain("1 consumed").And.Contain("1 dead-lettered").And.NotContain("processed");
    }

    [Fact]
    public async Task A_stop_bounded_by_its_caller_says_so()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());
        using var host = new CancellationTokenSource();

        await bus.Bus.StopAsync(host.Token);

        bus.Logs.Entries.Should().Contain(e => e.EventId == 7 && e.Level == LogLevel.Information && e.Message.Contains("00:00:30") && e.Message.Contains("caller's token"));
    }

    public sealed class AlwaysFails : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => throw new InvalidOperationException("no");
    }
}
