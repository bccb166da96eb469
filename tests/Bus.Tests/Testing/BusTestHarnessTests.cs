using System.Diagnostics;
using Bus.Testing;
using Bus.Tests.Support;

namespace Bus.Tests.Testing;

public sealed class BusTestHarnessTests
{
    [Fact]
    public async Task The_harness_records_publishes_sends_and_consumption_with_envelopes()
    {
        await using var harness = await BusTestHarness.StartAsync(b => b
            .AddQueue("payments")
            .AddConsumer<OrderToPayment>()
            .AddConsumer<RecordingConsumer<PaymentCompleted>>(c => c.Queue = "payments"),
            s => s.AddSingleton<Recorder>());

        await harness.PublishAndWaitAsync(new OrderPlaced(1));

        harness.Published<OrderPlaced>().Should().Equal(new OrderPlaced(1));
        harness.Sent<PaymentCompleted>(p => p.OrderId == 1).Should().ContainSingle();
        harness.Consumed<OrderPlaced>(m => m.Id == 1).Should().ContainSingle();
        harness.Consumed<PaymentCompleted>().Should().ContainSingle();
        var sent = harness.EventsOf<PaymentCompleted>(BusEventKind.Sent).Single();
        sent.Envelope.CorrelationId.Should().Be(harness.EventsOf<OrderPlaced>(BusEventKind.Published).Single().Envelope.MessageId);
        harness.EventsOf<PaymentCompleted>(BusEventKind.Consumed).Single().Queue.Should().Be("payments");
    }

    [Fact]
    public async Task A_hundred_messages_with_retries_and_dead_letters_run_on_the_fake_clock()
    {
        // Twice: the first run in a process includes compiling the bus; the second is what a test suite pays.
        var first = await RunHundredMessagesAsync();
        var second = await RunHundredMessagesAsync();

        TestContext.Current.TestOutputHelper?.WriteLine(
            $"100 messages, 150 failures, 100 retries, 50 dead letters: first run {first.TotalMilliseconds:0.0} ms, second {second.TotalMilliseconds:0.0} ms");
    }

    private static async Task<TimeSpan> RunHundredMessagesAsync()
    {
        var watch = Stopwatch.StartNew();
        await using var harness = await BusTestHarness.StartAsync(b => b.AddConsumer<OddOrdersFail>(c =>
            c.RetryPolicy = RetryPolicy.Intervals(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2))));

        for (var i = 0; i < 100; i++)
        {
            await harness.Publisher.PublishAsync(new OrderPlaced(i));
        }

        await harness.WaitUntilIdleAsync();
        harness.Retried<OrderPlaced>().Should().HaveCount(50).And.OnlyContain(r => r.Delay == TimeSpan.FromSeconds(1));
        await harness.AdvanceAsync(TimeSpan.FromSeconds(1));
        await harness.AdvanceAsync(TimeSpan.FromSeconds(2));
        var elapsed = watch.Elapsed;

        harness.Consumed<OrderPlaced>().Should().HaveCount(50).And.OnlyContain(o => o.Id % 2 == 0);
        harness.Faulted<OrderPlaced>().Should().HaveCount(150).And.OnlyContain(f => f.Exception is InvalidOperationException);
        harness.Retried<OrderPlaced>().Should().HaveCount(100);
        harness.DeadLettered<OrderPlaced>().Should().HaveCount(50)
            .And.OnlyContain(d => d.Reason == DeadLetterReason.MaxRetriesExceeded && d.Attempts == 3);
        return elapsed;
    }

    [Fact]
    public async Task Advancing_the_clock_delivers_scheduled_messages()
    {
        await using var harness = await BusTestHarness.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<Recorder>());

        await harness.Publisher.ScheduleAsync(new Job(1), TimeSpan.FromMinutes(5));
        await harness.WaitUntilIdleAsync();
        harness.Consumed<Job>().Should().BeEmpty();

        await harness.AdvanceAsync(TimeSpan.FromMinutes(5));

        harness.Consumed<Job>().Should().Equal(new Job(1));
    }

    [Fact]
    public async Task A_replaced_consumer_isolates_the_service_under_test()
    {
        await using var harness = await BusTestHarness.StartAsync(
            b => b
                .AddConsumer<OrderToPayment>()
                .AddConsumer<RealPaymentGateway>(c => c.Queue = "payments")
                .ReplaceConsumer<RealPaymentGateway, RecordingConsumer<PaymentCompleted>>(),
            s => s.AddSingleton<Recorder>());

        await harness.PublishAndWaitAsync(new OrderPlaced(7));

        harness.EventsOf<PaymentCompleted>(BusEventKind.Consumed).Should().ContainSingle()
            .Which.ConsumerType.Should().Be<RecordingConsumer<PaymentCompleted>>();
        harness.Services.GetRequiredService<Recorder>().Messages<PaymentCompleted>().Should().Equal(new PaymentCompleted(7));
    }

    [Fact]
    public async Task Replacing_a_consumer_that_was_never_added_fails_clearly()
    {
        var start = () => BusTestHarness.StartAsync(b => b.ReplaceConsumer<RealPaymentGateway, RecordingConsumer<PaymentCompleted>>());

        await start.Should().ThrowAsync<InvalidOperationException>().WithMessage("*RealPaymentGateway*never added*");
    }

    [Fact]
    public async Task The_event_record_is_bounded_and_counts_what_it_forgets()
    {
        await using var harness = await BusTestHarness.StartAsync(
            b => b.AddConsumer<RecordingConsumer<Job>>(),
            s => s.AddSingleton<Recorder>(),
            o => o.MaxEvents = 3);

        for (var i = 0; i < 5; i++)
        {
            await harness.Publisher.PublishAsync(new Job(i));
        }

        await harness.WaitUntilIdleAsync();
        harness.Events.Should().HaveCount(3);
        harness.ForgottenEvents.Should().Be(7);
    }

    [Fact]
    public async Task The_harness_replaces_another_transport_and_the_system_clock()
    {
        var services = new ServiceCollection();
        services.AddSingleton<IMessageTransport, NoTransport>();
        services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<Job>>());
        services.AddSingleton<Recorder>();
        services.AddMessageBusTestHarness(o => o.StartTime = new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await using var provider = services.BuildServiceProvider();
        await using var harness = provider.GetRequiredService<BusTestHarness>();
        await harness.StartAsync();

        await harness.PublishAndWaitAsync(new Job(1));

        harness.Consumed<Job>().Should().ContainSingle();
        harness.EventsOf<Job>(BusEventKind.Consumed).Single().Envelope.Timestamp.Year.Should().Be(2030);
    }

    public sealed class OrderToPayment : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            context.SendAsync("payments", new PaymentCompleted(context.Message.Id), cancellationToken);
    }

    public sealed class RealPaymentGateway : IConsumer<PaymentCompleted>
    {
        public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("would call the real payment provider");
    }

    public sealed class OddOrdersFail : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            context.Message.Id % 2 == 1 ? throw new InvalidOperationException("card declined") : default;
    }

    internal sealed class NoTransport : IMessageTransport
    {
        public TransportFeatures Features => TransportFeatures.None;

        public ITransportQueue CreateQueue(string name, QueueOptions options, Action<Envelope> onDropped) =>
            throw new InvalidOperationException("not the in-memory transport");
    }
}
