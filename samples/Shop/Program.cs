using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop;
using Shop.Telemetry;

// The shopping flow (ShopApp.cs): orders -> payment (retried with backoff, dead-lettered when the bank stays down)
// -> inventory, email and analytics through a topic exchange. Exits 0 when the outcome is the one the plan predicts.
// With --otel, the OpenTelemetry SDK prints the bus's spans and metrics, and the run ends with the traces as trees
// (Telemetry/); then it also exits 0 only when they show a message's trace across consumers, a retry and a dead letter.
// With --rabbitmq URI, the same consumers run over RabbitMQ; --role orders publishes the orders and exits, --role
// services runs the consumers until the orders are settled: the flow across two processes.
var otel = args.Contains(ShopTelemetry.Switch);
var rabbitMq = ValueOf(args, "--rabbitmq");
var role = ValueOf(args, "--role") ?? "all";
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// The bus logs every retry (event 22) and dead letter (event 23) with the exception's stack trace; the sample prints
// the same story in a line each instead.
builder.Logging.AddFilter("Bus", LogLevel.Critical);
ShopApp.AddServices(builder.Services, Console.Out);
builder.Services.AddMessageBus(bus =>
{
    if (role != "orders")
    {
        ShopApp.Configure(bus);
    }

    if (rabbitMq is not null)
    {
        bus.UseRabbitMQ(o => o.Uri = new Uri(rabbitMq));
    }
});
var spans = otel ? ShopTelemetry.Add(builder.Services) : null;

using var host = builder.Build();
await host.StartAsync();

if (rabbitMq is not null)
{
    var exitCode = await RunOverRabbitMqAsync(host.Services, role);
    await host.StopAsync();
    return exitCode;
}

var bus = host.Services.GetRequiredService<IMessageBus>();
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var outcome = await ShopApp.RunAsync(host.Services, ct => WaitUntilSettledAsync(bus, ct), timeout.Token);
await host.StopAsync();
if (spans is null)
{
    return outcome.IsAsExpected ? 0 : 1;
}

// Disposing the host disposes the SDK's providers, which flushes every exporter (the console prints the last spans and
// the metrics) and leaves nothing running, so the trees print last and the process exits at once.
host.Dispose();
var traced = ShopTelemetry.Report(spans, Console.Out);
return outcome.IsAsExpected && traced ? 0 : 1;

// WaitForIdleAsync does not count retries that are not due yet (that is what lets a test move a fake clock instead of
// waiting), so on the real clock "settled" is idle with nothing pending in any queue; until then, look again shortly.
static async Task WaitUntilSettledAsync(IMessageBus bus, CancellationToken cancellationToken)
{
    while (true)
    {
        await bus.WaitForIdleAsync(cancellationToken);
        if (bus.GetStatistics().Queues.All(q => q.Pending == 0))
        {
            return;
        }

        await Task.Delay(TimeSpan.FromMilliseconds(20), cancellationToken);
    }
}

static string? ValueOf(string[] args, string name) =>
    Array.IndexOf(args, name) is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;

// Over RabbitMQ the messages wait in the broker, where the bus's idle check cannot see them: the services are settled
// once analytics saw every event and payment dead-lettered what the plan says, with nothing pending here.
static async Task<int> RunOverRabbitMqAsync(IServiceProvider services, string role)
{
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
    if (role == "orders")
    {
        await ShopApp.PublishOrdersAsync(services, mandatory: true, timeout.Token);
        return 0;
    }

    // A run before this one left its dead letter in the broker: the report is about this run's.
    await services.GetRequiredService<IDeadLetterStore>().PurgeAsync(new DeadLetterQuery { Queue = ShopApp.PaymentQueue }, timeout.Token);
    if (role == "services")
    {
        Console.WriteLine("Shop services are consuming from RabbitMQ; waiting for the orders.");
    }
    else
    {
        await ShopApp.PublishOrdersAsync(services, mandatory: false, timeout.Token);
    }

    var bus = services.GetRequiredService<IMessageBus>();
    var analytics = services.GetRequiredService<AnalyticsService>();
    var expected = ShopCounts.Expected();
    while (analytics.Events < expected.AnalyticsEvents
        || bus.GetStatistics().GetQueue(ShopApp.PaymentQueue).DeadLettered < expected.DeadLettered
        || bus.GetStatistics().Queues.Any(q => q.Pending != 0))
    {
        await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
    }

    var outcome = await ShopApp.ReportAsync(services, timeout.Token);
    return outcome.IsAsExpected ? 0 : 1;
}
