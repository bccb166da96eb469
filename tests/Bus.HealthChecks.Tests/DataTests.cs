using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.HealthChecks.Tests;

public sealed class DataTests
{
    [Fact]
    public async Task A_healthy_result_carries_the_state_uptime_and_dead_letters_only()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10);
        bus.Time.Advance(TimeSpan.FromMinutes(3));

        var entry = await bus.CheckAsync();

        entry.Data.Should().BeEquivalentTo(new Dictionary<string, object>
        {
            ["state"] = "Running",
            ["uptime"] = TimeSpan.FromMinutes(3),
            ["dead_letters"] = 0,
        });
    }

    [Fact]
    public async Task A_degraded_result_carries_the_figures_of_the_queue_it_names()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 2, o => o.MaxMessageAge = TimeSpan.FromSeconds(10));
        await bus.PublishAsync(2);
        await bus.CheckAsync();

        bus.Time.Advance(TimeSpan.FromSeconds(30));
        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Be(
            "Queue 'jobs' has been at least 80% full for 30 s (2 of 2 messages). " +
            "Queue 'jobs' has a message waiting for 30 s, longer than the limit of 10 s.");
        entry.Data.Should().BeEquivalentTo(new Dictionary<string, object>
        {
            ["state"] = "Running",
            ["uptime"] = TimeSpan.FromSeconds(30),
            ["dead_letters"] = 0,
            ["queue:jobs:depth"] = 2,
            ["queue:jobs:capacity"] = 2,
            ["queue:jobs:saturated_for"] = TimeSpan.FromSeconds(30),
            ["queue:jobs:oldest_message_age"] = TimeSpan.FromSeconds(30),
        });
    }

    [Fact]
    public void The_key_helpers_give_the_documented_keys()
    {
        MessageBusHealthCheckData.QueueDepth("orders").Should().Be("queue:orders:depth");
        MessageBusHealthCheckData.QueueCapacity("orders").Should().Be("queue:orders:capacity");
        MessageBusHealthCheckData.QueueSaturatedFor("orders").Should().Be("queue:orders:saturated_for");
        MessageBusHealthCheckData.QueueOldestMessageAge("orders").Should().Be("queue:orders:oldest_message_age");
        MessageBusHealthCheckData.QueueReaderFaults("orders").Should().Be("queue:orders:reader_faults");
    }

    [Theory]
    [InlineData(250, "250 ms")]
    [InlineData(45_000, "45 s")]
    [InlineData(90_000, "1 min 30 s")]
    [InlineData(120_000, "2 min")]
    [InlineData(11_400_000, "3 h 10 min")]
    public void Durations_read_the_way_a_person_says_them(int milliseconds, string expected) =>
        Durations.Format(TimeSpan.FromMilliseconds(milliseconds)).Should().Be(expected);
}
