using Bus;
using Microsoft.Extensions.DependencyInjection;

namespace Shop;

/// <summary>
/// The shopping flow, runnable by the console host (Program.cs) and by a test on the Bus.Testing harness: the order
/// service publishes orders; payment charges them (retrying a gateway that times out, with exponential backoff) and
/// publishes the outcome on a topic exchange; inventory, email and analytics each get what their bindings select.
/// </summary>
public static class ShopApp
{
    /// <summary>Gets the name of the queue payment reads: a consumer's own queue is named after its class.</summary>
    public static string PaymentQueue { get; } = typeof(PaymentService).FullName!;

    /// <summary>Gets how often a failed charge is tried again: after 100, 200 and 400 ms.</summary>
    public static RetryPolicy PaymentRetries { get; } =
        RetryPolicy.Exponential(3, TimeSpan.FromMilliseconds(100), factor: 2).Handle<PaymentGatewayException>();

    public static IReadOnlyList<OrderPlaced> Orders { get; } =
    [
        new(1, "ada", 42.50m),
        new(2, "grace", 980.00m),     // over the card limit: declined, a business outcome
        new(3, "linus", 7.99m),
        new(4, "margaret", 120.00m),  // the bank times out once: the first retry goes through
        new(5, "alan", 65.00m),       // the bank is down: every retry fails, the order is dead-lettered
    ];

    /// <summary>Gets how many calls for each order time out at the gateway before one goes through.</summary>
    public static IReadOnlyDictionary<int, int> GatewayTimeouts { get; } = new Dictionary<int, int>
    {
        [4] = 1,
        [5] = int.MaxValue,
    };

    public static void AddServices(IServiceCollection services, TextWriter output)
    {
        services.AddSingleton(new Journal(output));
        services.AddSingleton(new PaymentGateway(GatewayTimeouts));
    }

    public static void Configure(IMessageBusBuilder bus) => bus
        .AddExchange("shop.payments", ExchangeType.Topic)
        .MapMessage<PaymentCompleted>("shop.payments")
        .MapMessage<PaymentFailed>("shop.payments")
        .AddConsumer<PaymentService>(c => c.RetryPolicy = PaymentRetries)
        .AddConsumer<InventoryService>(c => c.Bind<PaymentCompleted>("payment.completed"))
        .AddConsumer<EmailService>(c => c.Bind<PaymentCompleted>("payment.*").Bind<PaymentFailed>("payment.*"))
        .AddConsumer<AnalyticsService>(c => c.Lifetime = ConsumerLifetime.Singleton);   // default bindings: everything

    /// <summary>Publishes the orders, waits until every one is settled, and reports what became of them.</summary>
    /// <param name="services">The services of a running bus configured with <see cref="Configure"/>.</param>
    /// <param name="waitUntilSettled">
    /// Waits until nothing is queued, in flight or waiting for a retry: on the real clock the host polls the bus's
    /// statistics; a test moves the harness's fake clock instead, so the backoff costs it no time.
    /// </param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>What happened, and whether it is what the plan above predicts.</returns>
    public static async Task<ShopOutcome> RunAsync(
        IServiceProvider services, Func<CancellationToken, Task> waitUntilSettled, CancellationToken cancellationToken = default)
    {
        await PublishOrdersAsync(services, mandatory: false, cancellationToken);
        await waitUntilSettled(cancellationToken);
        return await ReportAsync(services, cancellationToken);
    }

    /// <summary>The order service: publishes the orders.</summary>
    /// <param name="services">The services of a running bus.</param>
    /// <param name="mandatory">
    /// Whether each order must reach a queue: when payment runs in another process that may not have bound its queue
    /// yet, an order that reaches none is refused, and published again shortly.
    /// </param>
    /// <param name="cancellationToken">Cancels the publishing.</param>
    /// <returns>A task that completes when every order was published.</returns>
    public static async Task PublishOrdersAsync(IServiceProvider services, bool mandatory, CancellationToken cancellationToken = default)
    {
        var bus = services.GetRequiredService<IMessageBus>();
        var journal = services.GetRequiredService<Journal>();
        journal.Line($"Order service publishes {Orders.Count} orders:");
        foreach (var order in Orders)
        {
            while (true)
            {
                try
                {
                    await bus.PublishAsync(order, new PublishOptions { Mandatory = mandatory }, cancellationToken);
                    break;
                }
                catch (UnroutableMessageException) when (mandatory)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(200), cancellationToken);
                }
            }
        }
    }

    /// <summary>Reports what became of the orders, once they are settled, and whether it is what the plan predicts.</summary>
    /// <param name="services">The services of the bus that ran the shop's consumers.</param>
    /// <param name="cancellationToken">Cancels the report.</param>
    /// <returns>What happened.</returns>
    public static async Task<ShopOutcome> ReportAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var bus = services.GetRequiredService<IMessageBus>();
        var journal = services.GetRequiredService<Journal>();
        var statistics = bus.GetStatistics();
        journal.Line();
        journal.Line("Queues:");
        foreach (var queue in statistics.Queues)
        {
            journal.Line($"  {queue.Name,-24} consumed {queue.Consumed}, faulted {queue.Faulted}, retried {queue.Retried}, dead-lettered {queue.DeadLettered}");
        }

        // Whatever payment gave up on is in the dead-letter store, with the reason, the attempts and the last error.
        var store = services.GetRequiredService<IDeadLetterStore>();
        var deadLetters = await store.QueryAsync(
            new DeadLetterQuery { Queue = PaymentQueue, MessageType = typeof(OrderPlaced) }, cancellationToken);
        journal.Line();
        journal.Line($"Dead letters ({deadLetters.Count}):");
        foreach (var deadLetter in deadLetters)
        {
            var order = (OrderPlaced)deadLetter.Message;
            var span = deadLetter.LastFailedAt - deadLetter.FirstFailedAt;
            journal.Line($"  order {order.OrderId} ({order.Customer}, {order.Total:0.00} EUR): {deadLetter.Reason} after "
                + $"{deadLetter.Attempts} attempts over {span.TotalMilliseconds:0} ms; last error {deadLetter.Error}");
        }

        var outcome = new ShopOutcome(
            new ShopCounts(
                AnalyticsEvents: services.GetRequiredService<AnalyticsService>().Events,
                StockReserved: statistics.GetQueue(typeof(InventoryService).FullName!).Consumed,
                EmailsSent: statistics.GetQueue(typeof(EmailService).FullName!).Consumed,
                PaymentRetries: statistics.GetQueue(PaymentQueue).Retried,
                DeadLettered: deadLetters.Count),
            deadLetters);
        var expected = ShopCounts.Expected();
        journal.Line();
        journal.Line($"Analytics saw {outcome.Counts.AnalyticsEvents} of {expected.AnalyticsEvents} events; stock reserved for "
            + $"{outcome.Counts.StockReserved} orders, {outcome.Counts.EmailsSent} emails sent, {outcome.Counts.PaymentRetries} "
            + $"payment retries, {outcome.Counts.DeadLettered} order dead-lettered: "
            + (outcome.IsAsExpected ? "as expected." : $"expected {expected}."));
        return outcome;
    }
}

/// <summary>What the shop did with the orders.</summary>
/// <param name="Counts">The counts.</param>
/// <param name="DeadLetters">The orders payment gave up on, from the dead-letter store.</param>
public sealed record ShopOutcome(ShopCounts Counts, IReadOnlyList<DeadLetter> DeadLetters)
{
    /// <summary>Gets whether the counts match what the orders and the gateway's plan predict, and each dead letter ran out of retries.</summary>
    public bool IsAsExpected =>
        Counts == ShopCounts.Expected()
        && DeadLetters.All(d => d.Reason == DeadLetterReason.MaxRetriesExceeded && d.Attempts == ShopApp.PaymentRetries.Retries + 1);
}

/// <summary>The counts of a run of the shop.</summary>
/// <param name="AnalyticsEvents">Events analytics consumed: every order and every payment outcome.</param>
/// <param name="StockReserved">Paid orders inventory reserved stock for.</param>
/// <param name="EmailsSent">Receipts and payment-problem emails.</param>
/// <param name="PaymentRetries">Charges tried again after the gateway timed out.</param>
/// <param name="DeadLettered">Orders payment gave up on.</param>
public sealed record ShopCounts(int AnalyticsEvents, long StockReserved, long EmailsSent, long PaymentRetries, int DeadLettered)
{
    /// <summary>Derives the expected counts from <see cref="ShopApp.Orders"/> and <see cref="ShopApp.GatewayTimeouts"/>.</summary>
    /// <returns>The expected counts.</returns>
    public static ShopCounts Expected()
    {
        var retries = ShopApp.PaymentRetries.Retries;
        int charged = 0, declined = 0, lost = 0, retried = 0;
        foreach (var order in ShopApp.Orders)
        {
            if (order.Total > PaymentService.CardLimit)
            {
                declined++;
                continue;
            }

            var timeouts = ShopApp.GatewayTimeouts.GetValueOrDefault(order.OrderId);
            retried += Math.Min(timeouts, retries);
            if (timeouts > retries)
            {
                lost++;
            }
            else
            {
                charged++;
            }
        }

        return new ShopCounts(
            AnalyticsEvents: ShopApp.Orders.Count + charged + declined,
            StockReserved: charged,
            EmailsSent: charged + declined,
            PaymentRetries: retried,
            DeadLettered: lost);
    }
}
