using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Rpc;

// Request/reply (RpcApp.cs): an answered request, a faulted one, a timed-out one. Exits 0 when all three end as expected.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
// The bus logs the failed request as a dead letter (event 23) with its stack trace; the sample prints one line instead.
builder.Logging.AddFilter("Bus", LogLevel.Critical);
RpcApp.AddServices(builder.Services, Console.Out);
builder.Services.AddMessageBus(RpcApp.Configure);

using var host = builder.Build();
await host.StartAsync();

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var outcome = await RpcApp.RunAsync(host.Services, timeout.Token);
await host.StopAsync();
return outcome.IsAsExpected ? 0 : 1;
