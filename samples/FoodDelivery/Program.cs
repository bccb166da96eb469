using Bus;
using FoodDelivery;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Food delivery (FoodDeliveryApp.cs): a priority queue of courier assignments (VIP first) and a kitchen queue
// partitioned by restaurant. Exits 0 when VIPs went first, each restaurant cooked in order, and every order arrived.
var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
FoodDeliveryApp.AddServices(builder.Services, Console.Out);
builder.Services.AddMessageBus(FoodDeliveryApp.Configure);

using var host = builder.Build();
await host.StartAsync();

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var outcome = await FoodDeliveryApp.RunAsync(host.Services, timeout.Token);
await host.StopAsync();
return outcome.IsAsExpected ? 0 : 1;
