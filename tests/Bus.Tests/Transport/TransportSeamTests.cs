using Bus.Tests.Reliability;
using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Transport;

/// <summary>The transport seam: a replacement transport carries the messages, leased deliveries are settled once each, and what a transport cannot do is refused at declaration.</summary>
public sealed class TransportSeamTests
{
    [Fact]
    public async Task A_replacement_transport_carries_the_messages()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<IMessageTransport>(new LeasingTransport()));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().ContainSingle();
        ((LeasingTransport)bus.Get<IMessageTransport>()).Enqueued.Should().Be(1);
    }

    [Fact]
    public async Task Every_leased_delivery_is_acknowledged_once_whether_consumed_retried_or_dead_lettered()
    {
        var transport = new LeasingTransport();
        var script = new Script();
        script.FailuresLeft[2] = 1;
        script.FailuresLeft[3] = 2;
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<FlakyConsumer>(c => c.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromSeconds(1))),
            s => s.AddSingleton<IMessageTransport>(transport).AddSingleton(script));

        for (var id = 1; id <= 3; id++)
        {
            await bus.Publisher.PublishAsync(new Job(id));
        }

        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(1));
        await bus.IdleAsync();

        script.Consumed.Keys.Should().BeEquivalentTo([1, 2]);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Message.Should().Be(new Job(3));

        // Job 1 consumed; job 2 failed, retried later and consumed; job 3 failed twice and was dead-lettered. Every
        // delivery taken from the transport was settled once: a retry later is a new delivery of the bus's own.
        transport.Settled.Select(s => s.Lease).Should().OnlyHaveUniqueItems();
        transport.Settled.Should().OnlyContain(s => s.Outcome == DeliveryOutcome.Acknowledged);
        transport.Settled.Select(s => s.Lease).Should().BeEquivalentTo(transport.Leased.Keys);
    }

    [Fact]
    public async Task Deliveries_left_at_a_stop_are_requeued_with_the_transport()
    {
        var transport = new LeasingTransport();
        var bus = await TestBus.StartAsync(
            b => b.Configure(o => o.StopTimeout = TimeSpan.Zero).AddConsumer<GatedConsumer<Job>>(c => c.QueueOptions.PrefetchCount = 3),
            s => s.AddSingleton<IMessageTransport>(transport).AddSingleton<Gate>());
        for (var id = 1; id <= 3; id++)
        {
            await bus.Publisher.PublishAsync(new Job(id));
        }

        await bus.Get<Gate>().WhenArrivedAsync(1);
        var report = await bus.Bus.StopAsync().WaitAsync(TestBus.Timeout);
        bus.Get<Gate>().Open();
        await bus.Services.DisposeAsync();

        report.Unprocessed.Should().HaveCount(3);
        transport.Settled.Should().HaveCount(3).And.OnlyContain(s => s.Outcome == DeliveryOutcome.Requeued);
    }

    [Fact]
    public async Task A_priority_queue_on_a_transport_without_priorities_is_refused_by_name()
    {
        await using var bus = TestBus.Create(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<IMessageTransport>(new LeasingTransport()));

        var declare = () => bus.Bus.Topology.DeclareQueue("urgent", new QueueOptions { MaxPriority = 5 });

        declare.Should().Throw<ArgumentException>().WithMessage("*'urgent'*MaxPriority*does not order by priority*");
    }

    [Theory]
    [InlineData(QueueFullMode.Wait)]
    [InlineData(QueueFullMode.DropNewest)]
    public void A_full_mode_the_transport_lacks_fails_the_start_naming_the_queue_the_mode_and_what_it_supports(QueueFullMode mode)
    {
        // A broker's x-overflow has reject-publish and drop-head only.
        var brokerLike = new LeasingTransport(TransportFeatures.FullReject | TransportFeatures.FullDropOldest | TransportFeatures.Leases);

        var create = () => TestBus.Create(
            b => b.AddQueue("orders", q => q.FullMode = mode).AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "orders"),
            s => s.AddSingleton<IMessageTransport>(brokerLike));

        create.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>()
            .WithMessage($"*'orders'*FullMode is {mode}*LeasingTransport*supports DropOldest, Reject*");
    }

    [Fact]
    public async Task A_full_mode_the_transport_has_is_accepted()
    {
        var brokerLike = new LeasingTransport(TransportFeatures.FullReject | TransportFeatures.FullDropOldest | TransportFeatures.Leases);

        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("orders", q => q.FullMode = QueueFullMode.Reject).AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "orders"),
            s => s.AddSingleton<IMessageTransport>(brokerLike));
        await bus.Publisher.SendAsync("orders", new Job(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().ContainSingle();
    }
}
