using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Hosting;

public sealed class LifecycleTests
{
    [Fact]
    public async Task A_generic_host_starts_and_stops_the_bus()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        using var host = builder.Build();
        var bus = host.Services.GetRequiredService<IMessageBus>();

        await host.StartAsync().WaitAsync(TestBus.Timeout);
        bus.State.Should().Be(BusState.Running);
        await bus.PublishAsync(new OrderPlaced(1));
        await bus.WaitForIdleAsync().WaitAsync(TestBus.Timeout);
        await host.StopAsync().WaitAsync(TestBus.Timeout);

        bus.State.Should().Be(BusState.Stopped);
        host.Services.GetRequiredService<Recorder>().Messages<OrderPlaced>().Should().ContainSingle();
    }

    [Fact]
    public async Task Hosted_services_registered_before_the_bus_can_publish_when_they_start_and_when_they_stop()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<Recorder>();
        builder.Services.AddHostedService<PublishingService>();
        builder.Services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<Job>>());
        using var host = builder.Build();

        await host.StartAsync().WaitAsync(TestBus.Timeout);
        await host.StopAsync().WaitAsync(TestBus.Timeout);

        host.Services.GetRequiredService<Recorder>().Messages<Job>().Select(j => j.Id).Should().Equal(1, 2);
    }

    [Fact]
    public async Task Stop_drains_queued_and_in_flight_messages()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<GatedConsumer<Job>>(), s => s.AddSingleton<Gate>());
        for (var i = 0; i < 5; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.Get<Gate>().WhenArrivedAsync(1);
        var stopping = bus.Bus.StopAsync();
        bus.Bus.State.Should().Be(BusState.Stopping);
        bus.Get<Gate>().Open();
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeTrue();
        report.Unprocessed.Should().BeEmpty();
        bus.Recorder.Messages<Job>().Should().HaveCount(5);
    }

    [Fact]
    public async Task A_stopping_bus_refuses_new_publishes_but_consumers_can_finish_their_work()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedForwardingConsumer>().AddConsumer<RecordingConsumer<PaymentCompleted>>(),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var stopping = bus.Bus.StopAsync();
        var publish = async () => await bus.Publisher.PublishAsync(new OrderPlaced(2));
        (await publish.Should().ThrowAsync<BusNotRunningException>()).Which.State.Should().Be(BusState.Stopping);
        bus.Get<Gate>().Open();
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeTrue();
        bus.Recorder.Messages<PaymentCompleted>().Should().Equal(new PaymentCompleted(1));
    }

    [Fact]
    public async Task After_the_stop_timeout_consumers_are_cancelled_and_what_is_left_is_reported()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<GatedConsumer<Job>>(c => c.Queue = "jobs").Configure(o => o.StopTimeout = TimeSpan.FromSeconds(5)),
            s => s.AddSingleton<Gate>());
        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }

        await bus.Get<Gate>().WhenArrivedAsync(1);
        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeFalse();
        report.Unprocessed.Select(u => ((Job)u.Envelope.Message).Id).Should().BeEquivalentTo([0, 1, 2]);
        report.Unprocessed.Should().OnlyContain(u => u.Queue == "jobs");
        report.Unprocessed.Single(u => u.WasInFlight).Envelope.Message.Should().Be(new Job(0));
        bus.Logs.Entries.Should().Contain(e => e.EventId == 4 && e.Level == LogLevel.Warning && e.Message.Contains('3'));
        bus.Logs.Entries.Should().Contain(e => e.EventId == 5 && e.Message.Contains("jobs"));
    }

    [Fact]
    public async Task Stopping_twice_returns_the_same_report_and_dispose_is_idempotent()
    {
        var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        var first = await bus.Bus.StopAsync();
        var second = await bus.Bus.StopAsync();
        await bus.Bus.DisposeAsync();
        await bus.Bus.DisposeAsync();
        bus.Bus.Dispose();
        await bus.DisposeAsync();

        second.Should().BeSameAs(first);
        bus.Bus.State.Should().Be(BusState.Stopped);
    }

    [Fact]
    public async Task A_stopped_bus_cannot_be_started_again()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());
        await bus.Bus.StopAsync();

        var start = async () => await bus.Bus.StartAsync();

        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("cannot be started again");
    }

    [Fact]
    public async Task Starting_a_running_bus_does_nothing()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());

        await bus.Bus.StartAsync();
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().ContainSingle();
    }

    [Fact]
    public async Task Stopping_a_bus_that_never_started_reports_nothing_left()
    {
        await using var bus = TestBus.Create(b => b.AddConsumer<RecordingConsumer<Job>>());

        var report = await bus.Bus.StopAsync();

        report.Drained.Should().BeTrue();
        bus.Bus.State.Should().Be(BusState.Stopped);
    }

    public sealed class PublishingService(IPublisher publisher) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken) => publisher.PublishAsync(new Job(1), cancellationToken).AsTask();

        public Task StopAsync(CancellationToken cancellationToken) => publisher.PublishAsync(new Job(2), cancellationToken).AsTask();
    }

    public sealed class GatedForwardingConsumer(Gate gate) : IConsumer<OrderPlaced>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
        {
            await gate.PassAsync(cancellationToken);
            await context.PublishAsync(new PaymentCompleted(context.Message.Id), cancellationToken);
        }
    }
}
