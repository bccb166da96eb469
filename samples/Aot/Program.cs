using System.Diagnostics;
using Aot;
using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Bus in a Native AOT executable: a host, a consumer, 10,000 orders. Prints how long the process took to get the bus
// running and to consume everything; exits 0 when every order was consumed exactly once.
const int Orders = 10_000;
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<OrderTally>();
builder.Services.AddMessageBus(bus => bus.AddConsumer<OrderConsumer>(c => c.Lifetime = ConsumerLifetime.Singleton));

using var host = builder.Build();
await host.StartAsync();
var started = DateTime.Now - Process.GetCurrentProcess().StartTime;

var publisher = host.Services.GetRequiredService<IPublisher>();
var clock = Stopwatch.StartNew();
for (var i = 0; i < Orders; i++)
{
    await publisher.PublishAsync(new OrderPlaced(i, 10m));
}

await host.Services.GetRequiredService<IMessageBus>().WaitForIdleAsync();
var consumed = clock.Elapsed;
await host.StopAsync();

var tally = host.Services.GetRequiredService<OrderTally>();
// A native executable has no assembly files beside it (PublishAot makes even a JIT run report no dynamic code).
var native = !File.Exists(Path.Combine(AppContext.BaseDirectory, "Bus.dll"));
Console.WriteLine($"native AOT: {(native ? "yes" : "no (JIT)")}; bus running {started.TotalMilliseconds:F0} ms after the process started; {tally.Count} of {Orders} orders consumed in {consumed.TotalMilliseconds:F0} ms");
return tally.Count == Orders ? 0 : 1;
