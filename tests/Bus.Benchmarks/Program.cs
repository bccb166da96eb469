using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Running;
using Bus.Benchmarks;

// Every run uses the runtime's default settings, as users run it (thread pool spinning on, workstation GC).
// Full runs: dotnet run -c Release --project tests/Bus.Benchmarks -- --filter '*'
// Quick run (scenarios 1-4 and 6 with the baselines, ending with one line of ratios):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --quick
// Scenario 1 Bus vs the raw channel and scenario 3, in N interleaved rounds (default 5), one ratio line per round:
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --scenario1 [N]
// Scenarios 1 and 3, Bus and raw, in one process, measured in alternating turns (see PairedRun), N rounds (default 40):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --paired [N]
// Scenario 1 with tracing and metrics listened to, and with pass-through filters: Bus, the raw channel, and the peers
// with and without their telemetry, in one process, in alternating turns (see TelemetryRun), N rounds (default 20):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --telemetry [N]
// What the topology costs: memory per idle queue, runtime declarations, idle CPU (see ScaleRun):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --scale
// Bus on RabbitMQ beside the raw RabbitMQ.Client and MassTransit.RabbitMQ on the same broker: throughput with publisher
// confirms, bytes per message, request/reply p50/p99, in N interleaved rounds (default 5; see RabbitMqRun; needs a
// broker at BUS_RABBITMQ_URI / BUS_RABBITMQ_MANAGEMENT_URI, by default guest on 127.0.0.1):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --rabbitmq [N]
// Which types make up each RabbitMQ contender's bytes per message (one run each, the top N types, default 15):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --rabbitmq-allocations [N]
var mode = args.Length > 0 ? args[0] : null;
int Count(int fallback) => args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
switch (mode)
{
    case "--paired":
        return await PairedRun.RunAsync(Count(40));
    case "--telemetry":
        return await TelemetryRun.RunAsync(Count(20));
    case "--scenario1":
        return QuickRun.RunScenarioOne(Count(5));
    case "--quick":
        return QuickRun.Run();
    case "--scale":
        return await ScaleRun.RunAsync();
    case "--rabbitmq":
        return await RabbitMqRun.RunAsync(Count(5));
    case "--rabbitmq-allocations":
        return await RabbitMqRun.AllocationsAsync(Count(15));
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, DefaultConfig.Instance.AddDiagnoser(MemoryDiagnoser.Default));
return 0;
