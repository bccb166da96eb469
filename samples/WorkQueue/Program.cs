using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using WorkQueue;

// A work queue (WorkQueueApp.cs): tasks spread over competing consumers with prefetch, and a tally per worker.
// Exits 0 when every task was done exactly once by at most the queue's concurrency of workers.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
WorkQueueApp.AddServices(builder.Services, Console.Out, perMegapixel: TimeSpan.FromMilliseconds(3));
builder.Services.AddMessageBus(WorkQueueApp.Configure);

using var host = builder.Build();
await host.StartAsync();

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var outcome = await WorkQueueApp.RunAsync(host.Services, timeout.Token);
await host.StopAsync();
return outcome.IsAsExpected ? 0 : 1;
