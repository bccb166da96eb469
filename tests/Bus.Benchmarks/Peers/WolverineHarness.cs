using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Wolverine;
using WolverineBus = Wolverine.IMessageBus;

namespace Bus.Benchmarks.Peers;

/// <summary>
/// WolverineFx on a generic host, set up the way its local-queue documentation shows: <c>UseWolverine</c> with
/// <c>PublishMessage&lt;OrderPlaced&gt;().ToLocalQueue("orders")</c>, and messages go out through
/// <see cref="WolverineBus.PublishAsync{T}(T, DeliveryOptions?)"/>. The local queue keeps Wolverine's defaults: buffered
/// in memory, handing the message object to the handler without serializing it, and processed in parallel (up to one
/// message per processor core, unordered). No message store is configured, so there is no inbox, outbox or database
/// and startup touches no network. The handler is named explicitly with conventional discovery off, and the
/// application assembly is set, because BenchmarkDotNet runs the benchmark from a generated entry assembly that a scan
/// would miss. <c>UseRuntimeCompilation</c> is required because Wolverine generates its handler adapter and compiles it
/// with Roslyn when the host starts; that happens in <see cref="StartAsync"/>, outside the measured loop. Logging is
/// limited to warnings so that Wolverine's per-message debug logging is off.
/// </summary>
public sealed class WolverineHarness : IThroughputHarness
{
    private readonly Countdown _countdown = new();
    private IHost? _host;
    private WolverineBus? _bus;

    public async Task StartAsync()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton(_countdown);
        builder.UseWolverine(opts =>
        {
            opts.ApplicationAssembly = typeof(WolverineHarness).Assembly;
            opts.UseRuntimeCompilation();
            opts.Discovery.DisableConventionalDiscovery().IncludeType<OrderPlacedHandler>();
            opts.PublishMessage<OrderPlaced>().ToLocalQueue("orders");
        });

        _host = builder.Build();
        await _host.StartAsync();
        _bus = _host.MessageBus();
    }

    public async Task PublishAndWaitAsync(int count)
    {
        var bus = _bus ?? throw new InvalidOperationException("StartAsync has not run.");
        _countdown.Reset(count);
        for (var i = 0; i < count; i++)
        {
            await bus.PublishAsync(new OrderPlaced(i, 10m));
        }

        await _countdown.WaitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync();
            _host.Dispose();
        }
    }

    public sealed class OrderPlacedHandler
    {
        public static void Handle(OrderPlaced message, Countdown countdown) => countdown.Signal();
    }
}
