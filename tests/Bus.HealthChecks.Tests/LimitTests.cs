using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.HealthChecks.Tests;

public sealed class LimitTests
{
    [Fact]
    public async Task A_message_older_than_MaxMessageAge_degrades_the_bus()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10, o => o.MaxMessageAge = TimeSpan.FromMinutes(1));
        await bus.PublishAsync(1);

        bus.Time.Advance(TimeSpan.FromMinutes(1));
        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy, "the limit is not exceeded at exactly one minute");

        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var entry = await bus.CheckAsync();
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Be("Queue 'jobs' has a message waiting for 1 min 5 s, longer than the limit of 1 min.");
        entry.Data[MessageBusHealthCheckData.QueueOldestMessageAge(HealthBus.Jobs)].Should().Be(TimeSpan.FromSeconds(65));
    }

    [Fact]
    public async Task Message_age_is_not_checked_by_default()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10);
        await bus.PublishAsync(1);

        bus.Time.Advance(TimeSpan.FromHours(2));

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task More_dead_letters_than_MaxDeadLetters_degrade_the_bus()
    {
        await using var bus = HealthBus.Create(
            b => b.AddConsumer<FailingConsumer>(),
            h => h
                .AddMessageBus(o => o.MaxDeadLetters = 3, name: "lenient")
                .AddMessageBus(o => o.MaxDeadLetters = 2, name: "strict")
                .AddMessageBus(name: "default"));
        await bus.Bus.StartAsync();
        await bus.PublishAsync(3);
        await bus.Bus.WaitForIdleAsync().WaitAsync(HealthBus.Timeout);

        var strict = await bus.CheckAsync("strict");

        strict.Status.Should().Be(HealthStatus.Degraded);
        strict.Description.Should().Be("The dead-letter store holds 3 messages, more than the limit of 2.");
        strict.Data[MessageBusHealthCheckData.DeadLetters].Should().Be(3);
        (await bus.CheckAsync("lenient")).Status.Should().Be(HealthStatus.Healthy, "three is not more than three");
        (await bus.CheckAsync("default")).Status.Should().Be(HealthStatus.Healthy, "the limit is off by default");
    }

    [Fact]
    public async Task A_limit_of_zero_dead_letters_degrades_the_bus_at_the_first()
    {
        await using var bus = HealthBus.Create(b => b.AddConsumer<FailingConsumer>(), h => h.AddMessageBus(o => o.MaxDeadLetters = 0));
        await bus.Bus.StartAsync();
        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);

        await bus.PublishAsync(1);
        await bus.Bus.WaitForIdleAsync().WaitAsync(HealthBus.Timeout);

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Degraded);
    }
}
