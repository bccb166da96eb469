using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop;

// The shopping flow: the order service publishes orders; payment consumes them and publishes the outcome on a
// topic exchange; inventory, email and analytics each get what their bindings select.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(new Journal(Console.Out));
builder.Services.AddMessageBus(bus => bus
    .AddExchange("shop.payments", ExchangeType.Topic)
    .MapMessage<PaymentCompleted>("shop.payments")
    .MapMessage<PaymentFailed>("shop.payments")
    .AddConsumer<PaymentService>()
    .AddConsumer<InventoryService>(c => c.Bind<PaymentCompleted>("payment.completed"))
    .AddConsumer<EmailService>(c => c.Bind<PaymentCompleted>("payment.*").Bind<PaymentFailed>("payment.*"))
    .AddConsumer<AnalyticsService>(c => c.Lifetime = ConsumerLifetime.Singleton));

using var host = builder.Build();
await host.StartAsync();

var bus = host.Services.GetRequiredService<IMessageBus>();
OrderPlaced[] orders =
[
    new(1, "ada", 42.50m),
    new(2, "grace", 980.00m),
    new(3, "linus", 7.99m),
];

Console.WriteLine("Order service publishes 3 orders:");
foreach (var order in orders)
{
    await bus.PublishAsync(order);
}

// The bus's own signal that every queue is empty and no consumer is busy: no sleeping, no guessing.
await bus.WaitForIdleAsync().WaitAsync(TimeSpan.FromSeconds(30));
await host.StopAsync();

var statistics = bus.GetStatistics();
Console.WriteLine();
Console.WriteLine("Queues:");
foreach (var queue in statistics.Queues)
{
    Console.WriteLine($"  {queue.Name,-28} consumed {queue.Consumed}, faulted {queue.Faulted}");
}

var analytics = host.Services.GetRequiredService<AnalyticsService>();
var expected = orders.Length * 2;
Console.WriteLine($"Analytics saw {analytics.Events} of {expected} events.");
return analytics.Events == expected ? 0 : 1;
