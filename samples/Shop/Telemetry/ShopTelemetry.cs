using System.Diagnostics;
using Bus;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Shop.Telemetry;

/// <summary>
/// The sample's <c>--otel</c> switch: the OpenTelemetry SDK subscribes to the bus's spans and metrics by their names
/// and prints them with the console exporter. The SDK lives here, in the sample; the bus itself only emits through
/// <see cref="ActivitySource"/> and <see cref="System.Diagnostics.Metrics.Meter"/>.
/// </summary>
public static class ShopTelemetry
{
    public const string Switch = "--otel";

    public const string ServiceName = "shop";

    /// <summary>Registers the SDK with the host.</summary>
    /// <param name="services">The host's services.</param>
    /// <returns>
    /// Every span the SDK finished, for the tree printed after the run: read it only once the host is disposed, which
    /// flushes the exporters. The in-memory exporter sits behind a simple export processor, which exports one span at
    /// a time under its own lock, so a plain list is safe to fill from the consumers' threads.
    /// </returns>
    public static IReadOnlyCollection<Activity> Add(IServiceCollection services)
    {
        var spans = new List<Activity>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithTracing(tracing => tracing
                .AddSource(BusDiagnostics.SourceName)
                .AddConsoleExporter()
                .AddInMemoryExporter(spans))
            .WithMetrics(metrics => metrics
                .AddMeter(BusDiagnostics.MeterName)
                .AddConsoleExporter());
        return spans;
    }

    /// <summary>Prints the recorded traces as trees and checks them against <see cref="TraceProof"/>.</summary>
    /// <returns>Whether the traces hold everything the proof asks for.</returns>
    public static bool Report(IReadOnlyCollection<Activity> spans, TextWriter output)
    {
        var tree = new TraceTree(spans);
        output.WriteLine();
        output.WriteLine($"Traces ({spans.Count} spans):");
        tree.Render(output);
        var missing = TraceProof.Missing(tree);
        output.WriteLine();
        output.WriteLine(missing.Count == 0
            ? "Trace check: publish -> process -> publish -> process chain, retry and dead letter recorded."
            : $"Trace check failed: {string.Join("; ", missing)}.");
        return missing.Count == 0;
    }
}
