using Bus.Testing;
using Shop;

namespace Bus.Tests.Samples;

public sealed class ShopSampleTests
{
    [Fact]
    public async Task The_shop_sample_ends_as_its_plan_predicts()
    {
        await using var harness = await StartAsync();

        var outcome = await ShopApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        outcome.IsAsExpected.Should().BeTrue();
        outcome.Counts.Should().Be(new ShopCounts(AnalyticsEvents: 9, StockReserved: 3, EmailsSent: 4, PaymentRetries: 4, DeadLettered: 1));
    }

    [Fact]
    public async Task Paid_orders_reach_inventory_and_email_and_analytics_sees_everything()
    {
        await using var harness = await StartAsync();

        await ShopApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        harness.EventsOf<PaymentCompleted>(BusEventKind.Consumed).Where(e => e.ConsumerType == typeof(InventoryService))
            .Select(e => ((PaymentCompleted)e.Message).OrderId).Should().BeEquivalentTo([1, 3, 4]);
        harness.EventsOf<PaymentFailed>(BusEventKind.Consumed).Where(e => e.ConsumerType == typeof(EmailService))
            .Select(e => ((PaymentFailed)e.Message).OrderId).Should().Equal(2);
        harness.Services.GetRequiredService<AnalyticsService>().Events.Should().Be(9);
    }

    [Fact]
    public async Task A_payment_the_bank_times_out_once_is_charged_on_its_first_retry()
    {
        await using var harness = await StartAsync();

        await ShopApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        harness.Retried<OrderPlaced>(o => o.OrderId == 4).Should().ContainSingle().Which.Delay.Should().Be(TimeSpan.FromMilliseconds(100));
        harness.Published<PaymentCompleted>(p => p.OrderId == 4).Should().ContainSingle();
    }

    [Fact]
    public async Task A_payment_that_keeps_failing_is_retried_with_growing_delays_then_dead_lettered()
    {
        await using var harness = await StartAsync();

        var outcome = await ShopApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        harness.Retried<OrderPlaced>(o => o.OrderId == 5).Select(r => r.Delay).Should().Equal(
            TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(400));
        var deadLetter = outcome.DeadLetters.Should().ContainSingle().Subject;
        deadLetter.Message.Should().Be(ShopApp.Orders.Single(o => o.OrderId == 5));
        deadLetter.Reason.Should().Be(DeadLetterReason.MaxRetriesExceeded);
        deadLetter.Attempts.Should().Be(4);
        deadLetter.Error!.Type.Should().Be(typeof(PaymentGatewayException).FullName);
        (deadLetter.LastFailedAt - deadLetter.FirstFailedAt).Should().Be(TimeSpan.FromMilliseconds(700));
    }

    private static Task<BusTestHarness> StartAsync() =>
        BusTestHarness.StartAsync(ShopApp.Configure, services => ShopApp.AddServices(services, TextWriter.Null));
}
