using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Hosting;

/// <summary>
/// Disposing the container (or the host) while the bus runs, without stopping it first, as a program that ends right
/// after its last publish does: the bus stops at once, without waiting for consumers whose services are going away,
/// and reports truthfully what it had not processed.
/// </summary>
public sealed class DisposeWithoutStopTests
{
    [Fact]
    public async Task Disposing_a_running_bus_reports_the_message_in_flight_without_waiting_for_its_consumer()
    {
        var bus = await TestBus.StartAsync(
            b => b.Configure(o => o.StopTimeout = TimeSpan.FromMinutes(10)).AddConsumer<GatedConsumer<Job>>(c => c.Queue = "jobs"),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Publisher.PublishAsync(new Job(2));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        var store = bus.Get<IDeadLetterStore>();
        var gate = bus.Get<Gate>();
        var logs = bus.Logs;

        // No clock moves and the gate stays shut: a dispose that drained would wait for ten minutes.
        await bus.Services.DisposeAsync().AsTask().WaitAsync(TestBus.Timeout);

        var deadLetters = await store.QueryAsync();
        deadLetters.Select(d => ((Job)d.Message).Id).Should().BeEquivalentTo([1, 2]);
        deadLetters.Should().OnlyContain(d => d.Reason == DeadLetterReason.BusStopped && d.Queue == "jobs");
        logs.Entries.Should().Contain(e => e.EventId == 8 && e.Level == LogLevel.Warning);
        logs.Entries.Should().Contain(e => e.EventId == 4 && e.Message.Contains('2'));
        logs.Entries.Should().NotContain(e => e.EventId == 3, "nothing claims every message was settled");
        gate.Open();
    }

    [Fact]
    public async Task The_synchronous_dispose_of_a_running_bus_does_not_wait_for_a_consumer_that_ignores_its_token()
    {
        var bus = await TestBus.StartAsync(
            b => b.Configure(o => o.StopTimeout = TimeSpan.FromMinutes(10)).AddConsumer<StubbornConsumer>(),
            s => s.AddSingleton<Gate>());
        await bus.Publisher.PublishAsync(new Job(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        var store = bus.Get<IDeadLetterStore>();
        var gate = bus.Get<Gate>();

        await Task.Run(bus.Services.Dispose).WaitAsync(TestBus.Timeout);

        bus.Bus.State.Should().Be(BusState.Stopped);
        (await store.QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.BusStopped);
        gate.Open();
    }

    [Fact]
    public async Task A_message_whose_scoped_consumer_cannot_be_created_because_the_container_is_being_disposed_is_reported_not_failed()
    {
        var logs = new LogCollector();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(logs));
        services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<Job>>(c => c.Lifetime = ConsumerLifetime.Scoped));
        services.AddSingleton<Recorder>();
        services.AddSingleton<PublishesWhileDisposed>();
        var provider = services.BuildServiceProvider();
        var bus = provider.GetRequiredService<IMessageBus>();
        await bus.StartAsync();

        // Created after the bus, so the container disposes it first, while it already refuses to create scopes and the
        // bus still runs: the moment a program that ends without stopping its host hits.
        provider.GetRequiredService<PublishesWhileDisposed>();
        var store = provider.GetRequiredService<IDeadLetterStore>();
        await provider.DisposeAsync().AsTask().WaitAsync(TestBus.Timeout);

        var deadLetter = (await store.QueryAsync()).Should().ContainSingle().Subject;
        deadLetter.Reason.Should().Be(DeadLetterReason.BusStopped, "the consumer never ran: it is reported, not failed and not retried");
        logs.Entries.Should().Contain(e => e.EventId == 4);
    }

    [Fact]
    public async Task A_host_disposed_without_stopping_stops_the_bus_and_reports_what_is_left()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddSingleton<Gate>().AddSingleton<Recorder>();
        builder.Services.AddMessageBus(b => b.AddConsumer<GatedConsumer<Job>>(c => c.Queue = "jobs"));
        IDeadLetterStore store;
        IMessageBus bus;
        using (var host = builder.Build())
        {
            await host.StartAsync().WaitAsync(TestBus.Timeout);
            bus = host.Services.GetRequiredService<IMessageBus>();
            store = host.Services.GetRequiredService<IDeadLetterStore>();
            await bus.PublishAsync(new Job(1));
            await host.Services.GetRequiredService<Gate>().WhenArrivedAsync(1);
        }

        bus.State.Should().Be(BusState.Stopped);
        (await store.QueryAsync()).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.BusStopped);
    }

    /// <summary>Waits at the gate, ignoring its cancellation token.</summary>
    public sealed class StubbornConsumer(Gate gate) : IConsumer<Job>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => await gate.PassAsync(CancellationToken.None);
    }

    /// <summary>Publishes when the container disposes it, then waits until the bus has settled that message.</summary>
    public sealed class PublishesWhileDisposed(IMessageBus bus) : IDisposable
    {
        public void Dispose()
        {
            bus.PublishAsync(new Job(1)).AsTask().Wait(TestBus.Timeout);
            bus.WaitForIdleAsync().Wait(TestBus.Timeout);
        }
    }
}
