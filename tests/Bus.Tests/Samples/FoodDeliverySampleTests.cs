using Bus.Testing;
using FoodDelivery;

namespace Bus.Tests.Samples;

public sealed class FoodDeliverySampleTests
{
    [Fact]
    public async Task Every_order_is_assigned_a_courier_and_delivered_once()
    {
        await using var harness = await StartAsync();

        var outcome = await FoodDeliveryApp.RunAsync(harness.Services);

        outcome.Assigned.Select(a => a.OrderId).Should().BeEquivalentTo(FoodDeliveryApp.Orders.Select(o => o.OrderId));
        outcome.Assigned.Select(a => a.Courier).Should().OnlyContain(c => FoodDeliveryApp.Couriers.Contains(c));
        outcome.Delivered.Should().BeEquivalentTo(FoodDeliveryApp.Orders.Select(o => o.OrderId));
    }

    [Fact]
    public async Task Vip_orders_waiting_for_a_courier_are_assigned_before_regular_ones()
    {
        await using var harness = await StartAsync();

        var outcome = await FoodDeliveryApp.RunAsync(harness.Services);

        var vips = FoodDeliveryApp.Orders.Where(o => o.Vip).Select(o => o.OrderId).ToHashSet();
        var afterFirst = outcome.Assigned.Skip(1).Select(a => a.OrderId).ToList();
        var vipsWaiting = afterFirst.Count(vips.Contains);
        afterFirst.Take(vipsWaiting).Should().OnlyContain(id => vips.Contains(id));
        harness.EventsOf<FoodReady>(BusEventKind.Published, r => r.Vip).Should().OnlyContain(e => e.Envelope.Priority == FoodDeliveryApp.VipPriority);
    }

    [Fact]
    public async Task Each_restaurant_cooks_its_orders_in_the_order_they_were_placed()
    {
        await using var harness = await StartAsync();

        var outcome = await FoodDeliveryApp.RunAsync(harness.Services);

        foreach (var restaurant in FoodDeliveryApp.Orders.GroupBy(o => o.Restaurant))
        {
            outcome.Cooked[restaurant.Key].Should().Equal(restaurant.Select(o => o.OrderId));
        }
    }

    [Fact]
    public async Task The_food_delivery_sample_ends_as_expected()
    {
        await using var harness = await StartAsync();

        var outcome = await FoodDeliveryApp.RunAsync(harness.Services);

        outcome.IsAsExpected.Should().BeTrue();
    }

    private static Task<BusTestHarness> StartAsync() =>
        BusTestHarness.StartAsync(FoodDeliveryApp.Configure, services => FoodDeliveryApp.AddServices(services, TextWriter.Null));
}
