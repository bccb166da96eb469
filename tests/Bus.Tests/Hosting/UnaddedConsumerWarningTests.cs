using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Hosting;

public sealed class UnaddedConsumerWarningTests
{
    private const int ConsumerNotAdded = 40;

    [Fact]
    public async Task A_consumer_registered_only_in_the_container_is_warned_about_at_start()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddScoped<ForgottenConsumer>());

        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == ConsumerNotAdded)
            .Which.Should().Match<LogEntry>(e => e.Level == LogLevel.Warning
                && e.Message.Contains(typeof(ForgottenConsumer).FullName!)
                && e.Message.Contains("IConsumer<OrderPlaced>")
                && e.Message.Contains("AddConsumer<ForgottenConsumer>()"));
    }

    [Fact]
    public async Task A_consumer_registered_by_its_interface_only_is_warned_about_too()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddScoped<IConsumer<OrderPlaced>, ForgottenConsumer>());

        bus.Logs.Entries.Should().ContainSingle(e => e.EventId == ConsumerNotAdded && e.Message.Contains(nameof(ForgottenConsumer)));
    }

    [Fact]
    public async Task Consumers_added_to_the_bus_are_not_warned_about()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<RecordingConsumer<Job>>()
            .AddConsumer<ForgottenConsumer>());

        bus.Logs.Entries.Should().NotContain(e => e.EventId == ConsumerNotAdded);
    }

    [Fact]
    public async Task A_replaced_consumer_is_not_warned_about()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<ForgottenConsumer>()
            .ReplaceConsumer<ForgottenConsumer, RecordingConsumer<OrderPlaced>>());

        bus.Logs.Entries.Should().NotContain(e => e.EventId == ConsumerNotAdded);
    }

    public sealed class ForgottenConsumer : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => default;
    }
}
