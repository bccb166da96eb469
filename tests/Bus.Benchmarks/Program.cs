using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Bus.Benchmarks;

// Full runs: dotnet run -c Release --project tests/Bus.Benchmarks -- --filter '*'
// Quick run (scenarios 1-4 and 6 with the baselines, under 3 minutes, ending with one line of ratios):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --quick
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
