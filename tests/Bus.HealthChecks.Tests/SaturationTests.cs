using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.HealthChecks.Tests;

public sealed class SaturationTests
{
    [Fact]
    public async Task A_queue_full_for_less_than_the_period_keeps_the_bus_healthy_and_degrades_it_once_the_period_is_reached()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 2);
        await bus.PublishAsync(2);
        await bus.CheckAsync();

        bus.Time.Advance(TimeSpan.FromSeconds(29));
        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);

        bus.Time.Advance(TimeSpan.FromSeconds(1));
        var entry = await bus.CheckAsync();
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data[MessageBusHealthCheckData.QueueSaturatedFor(HealthBus.Jobs)].Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task A_queue_seen_below_the_threshold_starts_its_period_again()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 2);
        await bus.PublishAsync(2);
        await bus.CheckAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(20));

        bus.Gate.Release(1);                            // job 0 ends, job 1 is taken: depth 1 of 2
        await bus.Gate.WhenArrivedAsync(2);
        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
        await bus.PublishAsync(1);                      // full again
        await bus.CheckAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(20));

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy, "40 s since first full, but only 20 s without a dip");
        bus.Time.Advance(TimeSpan.FromSeconds(10));
        var entry = await bus.CheckAsync();
        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Data[MessageBusHealthCheckData.QueueSaturatedFor(HealthBus.Jobs)].Should().Be(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task The_threshold_and_period_are_configurable()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10, o =>
        {
            o.SaturationThreshold = 0.5;
            o.SaturationPeriod = TimeSpan.FromSeconds(5);
        });
        await bus.PublishAsync(5);
        await bus.CheckAsync();

        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Be("Queue 'jobs' has been at least 50% full for 5 s (5 of 10 messages).");
    }

    [Fact]
    public async Task A_queue_below_the_threshold_never_degrades_the_bus()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10);
        await bus.PublishAsync(7);
        await bus.CheckAsync();

        bus.Time.Advance(TimeSpan.FromMinutes(10));

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }

    [Fact]
    public async Task A_queue_no_longer_in_the_snapshot_is_forgotten()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 2);
        await bus.PublishAsync(2);
        var queues = bus.Services.GetRequiredService<IBusMonitor>().GetSnapshot().Queues;
        var tracker = new SaturationTracker();
        tracker.Observe(queues, 0.8, bus.Time);
        bus.Time.Advance(TimeSpan.FromSeconds(20));

        tracker.Observe([], 0.8, bus.Time).Should().BeEmpty();
        bus.Time.Advance(TimeSpan.FromSeconds(20));

        tracker.Observe(queues, 0.8, bus.Time).Should().Equal(new Dictionary<string, TimeSpan> { [HealthBus.Jobs] = TimeSpan.Zero });
    }
}
