using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bus.HealthChecks.Tests;

public sealed class RegistrationTests
{
    [Fact]
    public async Task AddMessageBus_registers_a_check_named_bus_that_HealthCheckService_runs()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"));
        await bus.Bus.StartAsync();

        var report = await bus.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();

        report.Status.Should().Be(HealthStatus.Healthy);
        report.Entries.Should().ContainKey("bus").WhoseValue.Description.Should().Be("The bus is running; its queue is within limits.");
        var registration = Registrations(bus).Should().ContainSingle().Subject;
        registration.Name.Should().Be(MessageBusHealthChecksBuilderExtensions.DefaultName);
        registration.FailureStatus.Should().Be(HealthStatus.Unhealthy);
        registration.Tags.Should().BeEmpty();
    }

    [Fact]
    public async Task The_name_failure_status_and_tags_go_to_the_registration()
    {
        await using var bus = HealthBus.Create(
            b => b.AddQueue("orders"),
            h => h.AddMessageBus(name: "messaging", failureStatus: HealthStatus.Degraded, tags: ["ready", "bus"]));

        var registration = Registrations(bus).Should().ContainSingle().Subject;

        registration.Name.Should().Be("messaging");
        registration.FailureStatus.Should().Be(HealthStatus.Degraded);
        registration.Tags.Should().BeEquivalentTo("ready", "bus");
        var report = await bus.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(r => r.Tags.Contains("ready"));
        report.Entries.Should().ContainKey("messaging");
    }

    [Fact]
    public async Task Each_registration_resolves_to_one_check_instance_kept_between_runs()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus().AddMessageBus(name: "other"));
        var registrations = Registrations(bus);
        using var scope = bus.Services.CreateScope();

        var first = registrations[0].Factory(scope.ServiceProvider);

        registrations[0].Factory(bus.Services).Should().BeSameAs(first);
        registrations[1].Factory(scope.ServiceProvider).Should().NotBeSameAs(first);
    }

    [Fact]
    public void AddMessageBus_refuses_an_empty_name()
    {
        var builder = new ServiceCollection().AddHealthChecks();

        var add = () => builder.AddMessageBus(name: " ");

        add.Should().Throw<ArgumentException>().WithParameterName("name");
    }

    private static IList<HealthCheckRegistration> Registrations(HealthBus bus) =>
        bus.Services.GetRequiredService<IOptions<HealthCheckServiceOptions>>().Value.Registrations.ToList();
}
