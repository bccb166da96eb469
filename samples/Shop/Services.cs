using Bus;

namespace Shop;

/// <summary>Writes what happens, one line per event, so the output reads as the story of each order.</summary>
public sealed class Journal(TextWriter output)
{
    private readonly Lock _lock = new();

    public void Write(string service, string text)
    {
        lock (_lock)
        {
            output.WriteLine($"  [{service,-9}] {text}");
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

/// <summary>
/// Charges each order and announces the outcome on the "shop.payments" topic exchange. A declined card is a business
/// outcome (<see cref="PaymentFailed"/>); a gateway that does not answer is a failure: the exception goes to the bus,
/// whose retry policy tries again with backoff and dead-letters the order when the retries run out.
/// </summary>
public sealed class PaymentService(PaymentGateway gateway, Journal journal) : IConsumer<OrderPlaced>
{
    public const decimal CardLimit = 500m;

    public async ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
    {
        var order = context.Message;
        if (order.Total > CardLimit)
        {
            journal.Write("payment", $"order {order.OrderId}: {order.Total:0.00} EUR is over the card limit");
            await context.PublishAsync(new PaymentFailed(order.OrderId, "over the card limit"), "payment.failed", cancellationToken);
            return;
        }

        try
        {
            gateway.Charge(order);
        }
        catch (PaymentGatewayException exception)
        {
            journal.Write("payment", $"order {order.OrderId}: attempt {context.DeliveryCount} failed: {exception.Message}");
            throw;
        }

        var retried = context.DeliveryCount > 1 ? $" (attempt {context.DeliveryCount})" : "";
        journal.Write("payment", $"order {order.OrderId}: charged {order.Total:0.00} EUR to {order.Customer}{retried}");
        await context.PublishAsync(new PaymentCompleted(order.OrderId, order.Total), "payment.completed", cancellationToken);
    }
}

/// <summary>Reserves stock once an order is paid (bound to "payment.completed" only).</summary>
public sealed class InventoryService(Journal journal) : IConsumer<PaymentCompleted>
{
    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken)
    {
        journal.Write("inventory", $"order {context.Message.OrderId}: stock reserved");
        return default;
    }
}

/// <summary>Tells the customer how the payment went (bound to "payment.*").</summary>
public sealed class EmailService(Journal journal) : IConsumer<PaymentCompleted>, IConsumer<PaymentFailed>
{
    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken)
    {
        journal.Write("email", $"order {context.Message.OrderId}: receipt sent");
        return default;
    }

    public ValueTask ConsumeAsync(ConsumeContext<PaymentFailed> context, CancellationToken cancellationToken)
    {
        journal.Write("email", $"order {context.Message.OrderId}: payment problem reported ({context.Message.Reason})");
        return default;
    }
}

/// <summary>Listens to everything: every order (fanout) and every payment event ("#").</summary>
public sealed class AnalyticsService(Journal journal) : IConsumer<OrderPlaced>, IConsumer<PaymentCompleted>, IConsumer<PaymentFailed>
{
    private int _events;

    public int Events => Volatile.Read(ref _events);

    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => Count(context);

    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) => Count(context);

    public ValueTask ConsumeAsync(ConsumeContext<PaymentFailed> context, CancellationToken cancellationToken) => Count(context);

    private ValueTask Count(ConsumeContext context)
    {
        Interlocked.Increment(ref _events);
        journal.Write("analytics", $"{context.MessageType.Name} (key '{context.RoutingKey}', correlation ...{context.CorrelationId.ToString()[^6..]})");
        return default;
    }
}
