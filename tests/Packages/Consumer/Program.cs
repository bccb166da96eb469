// Uses Bus as an application does, from its packages: a host with the bus and a consumer, a health check, one
// publish, a graceful stop. Exits 0 only if the message was consumed, on the runtime the build targets.
using System.Reflection;
using System.Runtime.InteropServices;
using Bus;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

#if NET10_0_OR_GREATER
const int TargetMajor = 10;
#else
const int TargetMajor = 8;
#endif

var busVersion = typeof(IPublisher).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
Console.WriteLine($"Bus {busVersion} on {RuntimeInformation.FrameworkDescription}");
if (Environment.Version.Major != TargetMajor)
{
    return Fail($"built for .NET {TargetMajor}, running on {RuntimeInformation.FrameworkDescription}");
}

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton<Received>();
builder.Services.AddMessageBus(bus => bus.AddConsumer<OrderPlacedConsumer>());
builder.Services.AddHealthChecks().AddMessageBus();

using var host = builder.Build();
await host.StartAsync();

var health = await host.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
if (health.Status != HealthStatus.Healthy)
{
    return Fail($"the running bus reports {health.Status}");
}

await host.Services.GetRequiredService<IPublisher>().PublishAsync(new OrderPlaced(42));
await host.StopAsync();   // the bus drains: the consumer has run when this returns

var received = host.Services.GetRequiredService<Received>();
if (received.OrderIds.Count != 1 || received.OrderIds.Single() != 42)
{
    return Fail($"expected order 42 consumed once, got [{string.Join(", ", received.OrderIds)}]");
}

Console.WriteLine("OK: order 42 consumed, health check Healthy");

// With --rabbitmq URI, the same consumer over the broker, from the Bus.RabbitMQ package: one more line of registration.
if (args is ["--rabbitmq", var uri])
{
    var overBroker = Host.CreateApplicationBuilder();
    overBroker.Logging.SetMinimumLevel(LogLevel.Warning);
    overBroker.Services.AddSingleton<Received>();
    var queue = $"package-consumer-{Guid.NewGuid():N}";
    overBroker.Services.AddMessageBus(bus => bus
        .UseRabbitMQ(o => o.Uri = new Uri(uri))
        .AddExchange(queue, ExchangeType.Fanout)
        .AddConsumer<OrderPlacedConsumer>(c => c.Queue = queue)
        .Bind(queue, queue));
    using var brokerHost = overBroker.Build();
    await brokerHost.StartAsync();
    await brokerHost.Services.GetRequiredService<IPublisher>().PublishAsync(new OrderPlaced(43), new PublishOptions { Exchange = queue });
    var overBrokerReceived = brokerHost.Services.GetRequiredService<Received>();
    await overBrokerReceived.First.Task.WaitAsync(TimeSpan.FromSeconds(30));
    await brokerHost.Services.GetRequiredService<IMessageBus>().Topology.DeleteQueueAsync(queue);
    await brokerHost.StopAsync();
    if (overBrokerReceived.OrderIds.Single() != 43)
    {
        return Fail($"expected order 43 consumed once over RabbitMQ, got [{string.Join(", ", overBrokerReceived.OrderIds)}]");
    }

    Console.WriteLine("OK: order 43 consumed over RabbitMQ");
}

return 0;

static int Fail(string why)
{
    Console.Error.WriteLine($"FAILED: {why}");
    return 1;
}

internal sealed record OrderPlaced(int OrderId);

internal sealed class Received
{
    public System.Collections.Concurrent.ConcurrentQueue<int> OrderIds { get; } = new();

    public TaskCompletionSource First { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal sealed class OrderPlacedConsumer(Received received) : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
    {
        received.OrderIds.Enqueue(context.Message.OrderId);
        received.First.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
