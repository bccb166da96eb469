using Bus;
using Microsoft.Extensions.DependencyInjection;

namespace FoodDelivery;

/// <summary>
/// A lunch rush while every courier is still out. Orders go to the kitchen, whose queue is partitioned by restaurant
/// (each restaurant cooks its orders in the order placed, restaurants in parallel); the kitchen publishes FoodReady,
/// VIP orders with priority 9, to the dispatcher's "assignments" priority queue. When the couriers come back, the
/// dispatcher hands them the VIP orders waiting first.
/// </summary>
public static class FoodDeliveryApp
{
    public const string AssignmentsQueue = "assignments";
    public const string KitchenQueue = "kitchen";
    public const byte VipPriority = 9;

    public static IReadOnlyList<string> Couriers { get; } = ["Ana", "Ben"];

    public static IReadOnlyList<OrderPlaced> Orders { get; } =
    [
        new(1, "Pizza Roma", "ada", Vip: false),
        new(2, "Sushi Go", "bob", Vip: false),
        new(3, "Pizza Roma", "cyd", Vip: true),
        new(4, "Taco Loco", "dee", Vip: false),
        new(5, "Sushi Go", "eve", Vip: true),
        new(6, "Pizza Roma", "fay", Vip: false),
        new(7, "Taco Loco", "gus", Vip: false),
        new(8, "Sushi Go", "hal", Vip: true),
    ];

    public static void AddServices(IServiceCollection services, TextWriter output)
    {
        services.AddSingleton(new Journal(output));
        services.AddSingleton<CourierPool>();
        services.AddSingleton(new DeliveryBoard(Orders.Count));
    }

    public static void Configure(IMessageBusBuilder bus) => bus
        .AddConsumer<Kitchen>(c =>
        {
            c.Queue = KitchenQueue;
            c.QueueOptions.Concurrency = 3;                                     // three partitions, a cook each
            c.QueueOptions.PartitionBy<OrderPlaced, string>(o => o.Restaurant);  // a restaurant's orders stay in order
        })
        .AddConsumer<Dispatcher>(c =>
        {
            c.Queue = AssignmentsQueue;
            c.Lifetime = ConsumerLifetime.Singleton;
            c.QueueOptions.MaxPriority = 10;                                     // waiting orders are taken by priority
        })
        .AddConsumer<CourierApp>(c => c.QueueOptions.Concurrency = 2)
        .AddConsumer<CustomerApp>();

    /// <summary>Places the orders, brings the couriers back, waits until every order is delivered, and reports.</summary>
    /// <param name="services">The services of a running bus configured with <see cref="Configure"/>.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>What happened.</returns>
    public static async Task<FoodDeliveryOutcome> RunAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var bus = services.GetRequiredService<IMessageBus>();
        var journal = services.GetRequiredService<Journal>();
        var board = services.GetRequiredService<DeliveryBoard>();

        journal.Line($"Lunch rush: {Orders.Count} orders while the couriers are out ({Orders.Count(o => o.Vip)} VIP):");
        foreach (var order in Orders)
        {
            await bus.PublishAsync(order, cancellationToken);
        }

        // The dispatcher holds the first ready order, waiting for a courier; the rest wait in its queue by priority.
        await board.WhenAllCooked.WaitAsync(cancellationToken);
        journal.Line($"All food is ready; couriers {string.Join(" and ", Couriers)} are back:");
        var pool = services.GetRequiredService<CourierPool>();
        foreach (var courier in Couriers)
        {
            pool.ClockIn(courier);
        }

        await bus.WaitForIdleAsync(cancellationToken);

        var outcome = new FoodDeliveryOutcome(board.Assigned, board.Cooked, board.Delivered);
        journal.Line();
        journal.Line("Assigned in this order (the first one ready was already with the dispatcher, waiting for a courier):");
        journal.Line($"  {string.Join(", ", outcome.Assigned.Select(a => Orders.Single(o => o.OrderId == a.OrderId) is { Vip: true } ? $"{a.OrderId} (VIP)" : $"{a.OrderId}"))}");
        foreach (var (restaurant, cooked) in outcome.Cooked.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            journal.Line($"{restaurant} cooked: {string.Join(", ", cooked)}");
        }

        journal.Line($"Delivered {outcome.Delivered.Count} of {Orders.Count}. "
            + (outcome.IsAsExpected ? "VIPs first, each restaurant in order, every order delivered once: as expected." : "Not as expected."));
        return outcome;
    }
}

/// <summary>What became of the orders.</summary>
/// <param name="Assigned">The assignments, in the order the dispatcher made them.</param>
/// <param name="Cooked">Per restaurant, the orders in the order they were cooked.</param>
/// <param name="Delivered">The orders delivered.</param>
public sealed record FoodDeliveryOutcome(
    IReadOnlyList<CourierAssigned> Assigned, IReadOnlyDictionary<string, IReadOnlyList<int>> Cooked, IReadOnlyList<int> Delivered)
{
    /// <summary>
    /// Gets whether the VIP orders were assigned first. The dispatcher took the first ready order before the others were
    /// ready, and waits with it for a courier (a message already taken is not overtaken); after it, every VIP order comes
    /// before every regular one.
    /// </summary>
    public bool VipsFirst
    {
        get
        {
            if (Assigned.Count != FoodDeliveryApp.Orders.Count)
            {
                return false;
            }

            var vip = FoodDeliveryApp.Orders.Where(o => o.Vip).Select(o => o.OrderId).ToHashSet();
            var afterFirst = Assigned.Skip(1).Select(a => vip.Contains(a.OrderId)).ToList();
            var vipsLeft = afterFirst.Count(isVip => isVip);
            return afterFirst.Take(vipsLeft).All(isVip => isVip);
        }
    }

    /// <summary>Gets whether each restaurant cooked its orders in the order they were placed.</summary>
    public bool EachRestaurantInOrder =>
        FoodDeliveryApp.Orders.GroupBy(o => o.Restaurant).All(g =>
            Cooked.TryGetValue(g.Key, out var cooked) && cooked.SequenceEqual(g.Select(o => o.OrderId)));

    public bool IsAsExpected =>
        VipsFirst && EachRestaurantInOrder && Delivered.Order().SequenceEqual(FoodDeliveryApp.Orders.Select(o => o.OrderId));
}
