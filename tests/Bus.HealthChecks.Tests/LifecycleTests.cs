using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Bus.HealthChecks.Tests;

public sealed class LifecycleTests
{
    [Fact]
    public async Task A_running_bus_with_its_queues_within_limits_is_healthy()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 10);
        await bus.PublishAsync(3);

        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Healthy);
        entry.Description.Should().Be("The bus is running; its queue is within limits.");
    }

    [Fact]
    public async Task Health_moves_from_healthy_to_degraded_while_a_queue_stays_full_then_to_unhealthy_when_the_bus_stops()
    {
        await using var bus = await HealthBus.StartGatedAsync(capacity: 2);
        await bus.PublishAsync(2);

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy, "the queue has only just been seen full");
        bus.Time.Advance(MessageBusHealthCheckOptions.DefaultSaturationPeriod);
        var degraded = await bus.CheckAsync();
        degraded.Status.Should().Be(HealthStatus.Degraded);
        degraded.Description.Should().Be("Queue 'jobs' has been at least 80% full for 30 s (2 of 2 messages).");

        bus.Gate.Open();
        await bus.Bus.StopAsync();
        var stopped = await bus.CheckAsync();

        stopped.Status.Should().Be(HealthStatus.Unhealthy);
        stopped.Description.Should().Be("The bus has stopped.");
        stopped.Data[MessageBusHealthCheckData.State].Should().Be(nameof(BusState.Stopped));
    }

    [Fact]
    public async Task A_bus_not_started_is_unhealthy()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"));

        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Be("The bus has not started.");
        entry.Data[MessageBusHealthCheckData.State].Should().Be(nameof(BusState.Created));
    }

    [Fact]
    public async Task A_failure_is_reported_with_the_registrations_failure_status()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus(failureStatus: HealthStatus.Degraded));

        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Degraded);
        entry.Description.Should().Be("The bus has not started.");
    }

    [Fact]
    public async Task A_reader_fault_makes_the_bus_unhealthy_and_names_the_queue()
    {
        await using var bus = HealthBus.Create(
            b => b.AddQueue("orders").AddQueue("payments"),
            services: s => ReaderFaultMonitor.Install(s, "payments", faults: 1));
        await bus.Bus.StartAsync();

        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Description.Should().Be(
            "Queue 'payments' lost 1 reader loop(s) to a failure inside the bus and may have stopped taking messages.");
        entry.Data[MessageBusHealthCheckData.QueueReaderFaults("payments")].Should().Be(1);
        entry.Data.Keys.Should().NotContain(k => k.StartsWith("queue:orders:", StringComparison.Ordinal));
    }
}
