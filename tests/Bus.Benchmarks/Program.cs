using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Bus.Benchmarks;

// Full runs: dotnet run -c Release --project tests/Bus.Benchmarks -- --filter '*'
// Quick run (scenarios 1-4 and 6 with the baselines, under 3 minutes, ending with one line of ratios):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --quick
// Scenario 1 Bus vs the raw channel and scenario 3, N times (default 3), one ratio line per run:
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --scenario1 [N]
if (args.Length > 0 && args[0] == "--scenario1")
{
    return QuickRun.RunScenarioOne(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 3);
}

if (args.Contains("--quick"))
{
    return QuickRun.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(
    args,
    DefaultConfig.Instance
        .AddJob(Job.Default.WithEnvironmentVariable("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0"))
        .AddDiagnoser(MemoryDiagnoser.Default));
return 0;
