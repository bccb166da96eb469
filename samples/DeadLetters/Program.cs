using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using DeadLetters;

// Failures, backoff, the dead-letter store and replay (DeadLettersApp.cs). Exits 0 when every invoice ends as planned.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// The bus logs every retry (event 22) and dead letter (event 23) with the exception's stack trace; the sample prints
// the same story in a line each instead.
builder.Logging.AddFilter("Bus", LogLevel.Critical);
DeadLettersApp.AddServices(builder.Services, Console.Out);
builder.Services.AddMessageBus(DeadLettersApp.Configure);

using var host = builder.Build();
await host.StartAsync();

var bus = host.Services.GetRequiredService<IMessageBus>();
using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var outcome = await DeadLettersApp.RunAsync(host.Services, ct => WaitUntilSettledAsync(bus, ct), timeout.Token);
await host.StopAsync();
return outcome.IsAsExpected ? 0 : 1;

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
