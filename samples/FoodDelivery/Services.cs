using System.Collections.Concurrent;
using System.Threading.Channels;
using Bus;

namespace FoodDelivery;

/// <summary>Writes what happens, one line per event.</summary>
public sealed class Journal(TextWriter output)
{
    private readonly Lock _lock = new();

    public void Write(string service, string text)
    {
        lock (_lock)
        {
            output.WriteLine($"  [{service,-10}] {text}");
        }
    }

    public void Line(string text = "")
    {
        lock (_lock)
        {
            output.WriteLine(text);
        }
    }
}

/// <summary>The couriers free to take an order. Taking one waits until someone is free.</summary>
public sealed class CourierPool
{
    // Holds at most the couriers there are; each is in it or out on a delivery.
    private readonly Channel<string> _free = Channel.CreateUnbounded<string>();

    public void ClockIn(string courier) => _free.Writer.TryWrite(courier);

    public void Release(string courier) => _free.Writer.TryWrite(courier);

    public ValueTask<string> TakeAsync(CancellationToken cancellationToken) => _free.Reader.ReadAsync(cancellationToken);
}

/// <summary>What happened, for the summary and the checks.</summary>
public sealed class DeliveryBoard
{
    private readonly ConcurrentDictionary<string, ConcurrentQueue<int>> _cooked = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<CourierAssigned> _assigned = new();
    private readonly ConcurrentQueue<int> _delivered = new();
    private readonly TaskCompletionSource _allCooked = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _cookedCount;

    public DeliveryBoard(int orders)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(orders, 1);
        Orders = orders;
    }

    public int Orders { get; }

    /// <summary>Gets a task that completes when the kitchen has cooked every order.</summary>
    public Task WhenAllCooked => _allCooked.Task;

    public IReadOnlyDictionary<string, IReadOnlyList<int>> Cooked =>
        _cooked.ToDictionary(p => p.Key, p => (IReadOnlyList<int>)[.. p.Value], StringComparer.Ordinal);

    public IReadOnlyList<CourierAssigned> Assigned => [.. _assigned];

    public IReadOnlyList<int> Delivered => [.. _delivered];

    public void Cook(OrderPlaced order)
    {
        _cooked.GetOrAdd(order.Restaurant, _ => new()).Enqueue(order.OrderId);
        if (Interlocked.Increment(ref _cookedCount) == Orders)
        {
            _allCooked.TrySetResult();
        }
    }

    public void Assign(CourierAssigned assignment) => _assigned.Enqueue(assignment);

    public void Deliver(int orderId) => _delivered.Enqueue(orderId);
}

/// <summary>
/// Cooks each order and announces the food is ready, VIP orders with a higher priority. Its queue is partitioned by
/// restaurant: a restaurant's orders are cooked one at a time, in the order they were placed, while different
/// restaurants cook in parallel.
/// </summary>
public sealed class Kitchen(DeliveryBoard board, Journal journal) : IConsumer<OrderPlaced>
{
    public async ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
    {
        await Task.Yield();   // cooking takes a moment: other restaurants' orders go on meanwhile
        var order = context.Message;
        board.Cook(order);
        journal.Write("kitchen", $"{order.Restaurant}: order {order.OrderId} cooked");
        var priority = order.Vip ? FoodDeliveryApp.VipPriority : (byte)0;
        await context.PublishAsync(new FoodReady(order.OrderId, order.Restaurant, order.Vip), new PublishOptions { Priority = priority }, cancellationToken);
    }
}

/// <summary>
/// Assigns a courier to each order, one order at a time from the "assignments" priority queue: when no courier is free
/// it waits, orders queue up behind it, and when a courier comes back the highest-priority waiting order goes first.
/// </summary>
public sealed class Dispatcher(CourierPool couriers, DeliveryBoard board, Journal journal) : IConsumer<FoodReady>
{
    public async ValueTask ConsumeAsync(ConsumeContext<FoodReady> context, CancellationToken cancellationToken)
    {
        var order = context.Message;
        var courier = await couriers.TakeAsync(cancellationToken);
        var assignment = new CourierAssigned(order.OrderId, courier);
        board.Assign(assignment);
        journal.Write("dispatcher", $"order {order.OrderId}{(order.Vip ? " (VIP)" : "")} -> {courier} (priority {context.Envelope.Priority})");
        await context.PublishAsync(assignment, cancellationToken);
    }
}

/// <summary>The courier's phone: picks the food up, delivers it, and is free again.</summary>
public sealed class CourierApp(CourierPool couriers, Journal journal) : IConsumer<CourierAssigned>
{
    public async ValueTask ConsumeAsync(ConsumeContext<CourierAssigned> context, CancellationToken cancellationToken)
    {
        var assignment = context.Message;
        await Task.Yield();   // the ride
        journal.Write("courier", $"{assignment.Courier} delivered order {assignment.OrderId}");
        await context.PublishAsync(new OrderDelivered(assignment.OrderId, assignment.Courier), cancellationToken);
        couriers.Release(assignment.Courier);
    }
}

/// <summary>The customer's app, told when the food is at the door.</summary>
public sealed class CustomerApp(DeliveryBoard board) : IConsumer<OrderDelivered>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderDelivered> context, CancellationToken cancellationToken)
    {
        board.Deliver(context.Message.OrderId);
        return default;
    }
}
