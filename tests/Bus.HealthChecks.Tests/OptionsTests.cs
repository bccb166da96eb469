using Bus.HealthChecks.Tests.Support;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Bus.HealthChecks.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_are_the_documented_constants()
    {
        var options = new MessageBusHealthCheckOptions();

        options.SaturationThreshold.Should().Be(MessageBusHealthCheckOptions.DefaultSaturationThreshold).And.Be(0.8);
        options.SaturationPeriod.Should().Be(MessageBusHealthCheckOptions.DefaultSaturationPeriod).And.Be(TimeSpan.FromSeconds(30));
        options.MaxMessageAge.Should().BeNull();
        options.MaxDeadLetters.Should().BeNull();
    }

    public static TheoryData<Action<MessageBusHealthCheckOptions>, string> Invalid => new()
    {
        { o => o.SaturationThreshold = 0, "SaturationThreshold" },
        { o => o.SaturationThreshold = 1.01, "SaturationThreshold" },
        { o => o.SaturationThreshold = double.NaN, "SaturationThreshold" },
        { o => o.SaturationPeriod = TimeSpan.Zero, "SaturationPeriod" },
        { o => o.MaxMessageAge = TimeSpan.FromSeconds(-1), "MaxMessageAge" },
        { o => o.MaxDeadLetters = -1, "MaxDeadLetters" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public async Task An_option_out_of_range_fails_validation_naming_the_option(Action<MessageBusHealthCheckOptions> configure, string option)
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus(configure));

        var get = () => bus.Services.GetRequiredService<IOptionsMonitor<MessageBusHealthCheckOptions>>().Get("bus");

        get.Should().Throw<OptionsValidationException>()
            .Which.Message.Should().Contain($"MessageBusHealthCheckOptions.{option} of health check 'bus' must be");
    }

    [Fact]
    public async Task Invalid_options_fail_when_the_host_validates_at_start()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus(o => o.SaturationThreshold = 2));

        var validate = () => bus.Services.GetRequiredService<IStartupValidator>().Validate();

        validate.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("SaturationThreshold");
    }

    [Fact]
    public async Task Without_a_host_a_check_with_invalid_options_reports_its_failure_status_with_the_validation_error()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus(o => o.MaxDeadLetters = -1));
        await bus.Bus.StartAsync();

        var entry = await bus.CheckAsync();

        entry.Status.Should().Be(HealthStatus.Unhealthy);
        entry.Exception.Should().BeOfType<OptionsValidationException>().Which.Message.Should().Contain("MaxDeadLetters");
    }

    [Fact]
    public async Task The_limits_accept_their_boundaries()
    {
        await using var bus = HealthBus.Create(b => b.AddQueue("orders"), h => h.AddMessageBus(o =>
        {
            o.SaturationThreshold = 1;
            o.SaturationPeriod = TimeSpan.FromTicks(1);
            o.MaxMessageAge = TimeSpan.FromTicks(1);
            o.MaxDeadLetters = 0;
        }));
        await bus.Bus.StartAsync();

        (await bus.CheckAsync()).Status.Should().Be(HealthStatus.Healthy);
    }
}
