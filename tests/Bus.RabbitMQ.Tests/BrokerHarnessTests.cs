using Bus.RabbitMQ.Tests.Support;
using Bus.Testing;

namespace Bus.RabbitMQ.Tests;

/// <summary>
/// The README's Bus.Testing example, the same test code, run over the broker: the transport line and
/// <see cref="BusTestHarnessOptions.KeepTransport"/> are the only changes (and names of the test's own, since queues on
/// a broker outlive a test).
/// </summary>
public sealed class BrokerHarnessTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task The_readme_harness_test_passes_over_RabbitMQ_with_the_transport_kept()
    {
        await RabbitMqBroker.RequireAsync();
        var prefix = Names.Unique("harness");
        await using var harness = await BusTestHarness.StartAsync(
            bus => bus
                .UseRabbitMQ(o => (o.Uri, o.RecoveryInterval) = (vhost.Uri, TimeSpan.FromSeconds(1)))
                .AddExchange($"{prefix}.orders", ExchangeType.Fanout).MapMessage<HarnessOrderPlaced>($"{prefix}.orders")
                .AddExchange($"{prefix}.payments", ExchangeType.Fanout).MapMessage<HarnessPaymentCompleted>($"{prefix}.payments")
                .AddConsumer<HarnessPaymentConsumer>(c => (c.Queue, c.RetryPolicy) = ($"{prefix}.payment", RetryPolicy.Immediate(2)))
                .AddConsumer<HarnessReceiptConsumer>(c => c.Queue = $"{prefix}.receipt"),
            services => services.AddSingleton<IHarnessPaymentGateway>(new HarnessFlakyGateway(failures: 1)),
            options => options.KeepTransport = true);

        await harness.PublishAndWaitAsync(new HarnessOrderPlaced(1, 42.50m));   // publish, then wait until idle

        harness.Faulted<HarnessOrderPlaced>().Should().ContainSingle().Which.Exception.Should().BeOfType<TimeoutException>();
        harness.DeadLettered<HarnessOrderPlaced>().Should().BeEmpty();
        harness.Consumed<HarnessPaymentCompleted>().Should().ContainSingle().Which.OrderId.Should().Be(1);
        (await vhost.QueueExistsAsync($"{prefix}.payment")).Should().BeTrue("the bus ran on the broker");
    }

    [Fact]
    public async Task Without_keeping_the_transport_the_harness_runs_in_memory_whatever_the_configuration_says()
    {
        await RabbitMqBroker.RequireAsync();
        var prefix = Names.Unique("harness");
        await using var harness = await BusTestHarness.StartAsync(
            bus => bus
                .UseRabbitMQ(o => o.Uri = vhost.Uri)
                .AddExchange($"{prefix}.orders", ExchangeType.Fanout).MapMessage<HarnessOrderPlaced>($"{prefix}.orders")
                .AddExchange($"{prefix}.payments", ExchangeType.Fanout).MapMessage<HarnessPaymentCompleted>($"{prefix}.payments")
                .AddConsumer<HarnessPaymentConsumer>(c => (c.Queue, c.RetryPolicy) = ($"{prefix}.payment", RetryPolicy.Immediate(2)))
                .AddConsumer<HarnessReceiptConsumer>(c => c.Queue = $"{prefix}.receipt"),
            services => services.AddSingleton<IHarnessPaymentGateway>(new HarnessFlakyGateway(failures: 1)));

        await harness.PublishAndWaitAsync(new HarnessOrderPlaced(1, 42.50m));

        harness.Consumed<HarnessPaymentCompleted>().Should().ContainSingle();
        harness.Services.GetRequiredService<IMessageTransport>().Should().BeOfType<InMemoryTransport>();
        (await vhost.QueueExistsAsync($"{prefix}.payment")).Should().BeFalse("nothing went to the broker");
    }
}

public sealed record HarnessOrderPlaced(int OrderId, decimal Total);

public sealed record HarnessPaymentCompleted(int OrderId);

public interface IHarnessPaymentGateway
{
    Task ChargeAsync(int orderId, decimal amount, CancellationToken cancellationToken);
}

public sealed class HarnessFlakyGateway(int failures) : IHarnessPaymentGateway
{
    private int _calls;

    public Task ChargeAsync(int orderId, decimal amount, CancellationToken cancellationToken) =>
        Interlocked.Increment(ref _calls) <= failures
            ? Task.FromException(new TimeoutException($"The bank timed out charging order {orderId}"))
            : Task.CompletedTask;
}

public sealed class HarnessPaymentConsumer(IHarnessPaymentGateway gateway) : IConsumer<HarnessOrderPlaced>
{
    public async ValueTask ConsumeAsync(ConsumeContext<HarnessOrderPlaced> context, CancellationToken cancellationToken)
    {
        await gateway.ChargeAsync(context.Message.OrderId, context.Message.Total, cancellationToken);
        await context.PublishAsync(new HarnessPaymentCompleted(context.Message.OrderId), cancellationToken);
    }
}

public sealed class HarnessReceiptConsumer : IConsumer<HarnessPaymentCompleted>
{
    public ValueTask ConsumeAsync(ConsumeContext<HarnessPaymentCompleted> context, CancellationToken cancellationToken) =>
        ValueTask.CompletedTask;
}
