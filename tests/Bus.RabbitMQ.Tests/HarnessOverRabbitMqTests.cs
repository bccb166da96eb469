using Bus.RabbitMQ.Tests.Support;
using Bus.Testing;

namespace Bus.RabbitMQ.Tests;

/// <summary>The Bus.Testing harness over the broker: the same test code as in memory, with one more option and the transport line.</summary>
public sealed class HarnessOverRabbitMqTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    [Fact]
    public async Task A_harness_test_runs_over_RabbitMQ_and_waits_until_the_broker_delivered_everything()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = $"harness-{Guid.NewGuid():N}";
        await using var harness = await StartAsync(queue, failures: 0);

        for (var id = 1; id <= 20; id++)
        {
            await harness.Publisher.PublishAsync(new HarnessOrder(id));
        }

        await harness.WaitUntilIdleAsync();

        harness.Consumed<HarnessOrder>().Select(o => o.Id).Should().BeEquivalentTo(Enumerable.Range(1, 20));
        harness.Published<HarnessOrder>().Should().HaveCount(20);
    }

    [Fact]
    public async Task Waiting_until_idle_includes_a_retry_waiting_in_the_broker()
    {
        await RabbitMqBroker.RequireAsync();
        var queue = $"harness-{Guid.NewGuid():N}";
        await using var harness = await StartAsync(queue, failures: 1);

        await harness.PublishAndWaitAsync(new HarnessOrder(7));

        harness.Retried<HarnessOrder>().Should().ContainSingle();
        harness.Consumed<HarnessOrder>().Should().ContainSingle().Which.Id.Should().Be(7);
        harness.EventsOf<HarnessOrder>(BusEventKind.Consumed).Single().Envelope.DeliveryCount.Should().Be(2);
    }

    [Fact]
    public async Task Moving_the_fake_clock_is_refused_over_a_broker()
    {
        await RabbitMqBroker.RequireAsync();
        await using var harness = await StartAsync($"harness-{Guid.NewGuid():N}", failures: 0);

        var advance = () => harness.AdvanceAsync(TimeSpan.FromSeconds(1));

        await advance.Should().ThrowAsync<InvalidOperationException>().WithMessage("*KeepTransport*system clock*");
    }

    private Task<BusTestHarness> StartAsync(string queue, int failures) => BusTestHarness.StartAsync(
        bus => bus
            .UseRabbitMQ(o => { o.Uri = vhost.Uri; o.RecoveryInterval = TimeSpan.FromSeconds(1); })
            .AddExchange(queue, ExchangeType.Fanout)
            .MapMessage<HarnessOrder>(queue)
            .AddConsumer<HarnessOrderConsumer>(c =>
            {
                c.Queue = queue;
                c.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromMilliseconds(100));
            }),
        services => services.AddSingleton(new HarnessFailures(failures)),
        options => options.KeepTransport = true);
}

public sealed record HarnessOrder(int Id);

public sealed class HarnessFailures(int failures)
{
    private int _left = failures;

    public bool FailNow() => Interlocked.Decrement(ref _left) >= 0;
}

public sealed class HarnessOrderConsumer(HarnessFailures failures) : IConsumer<HarnessOrder>
{
    public ValueTask ConsumeAsync(ConsumeContext<HarnessOrder> context, CancellationToken cancellationToken) =>
        failures.FailNow() ? throw new InvalidOperationException("the first attempt fails") : default;
}
