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
var otel = args.Contains(ShopTelemetry.Switch);
var builder = Host.CreateApplicationBuilder(args.Where(a => a != ShopTelemetry.Switch).ToArray());
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// The bus logs every retry (event 22) and dead letter (event 23) with the exception's stack trace; the sample prints
// the same story in a line each instead.
builder.Logging.AddFilter("Bus", LogLevel.Critical);
ShopApp.AddServices(builder.Services, Console.Out);
builder.Services.AddMessageBus(ShopApp.Configure);
var spans = otel ? ShopTelemetry.Add(builder.Services) : null;

using var host = builder.Build();
await host.StartAsync();

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
