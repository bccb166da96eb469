using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using Bus.Benchmarks;

// Full runs: dotnet run -c Release --project tests/Bus.Benchmarks -- --filter '*'
// Quick run (scenarios 1-4 and 6 with the baselines, under 3 minutes, ending with one line of ratios):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --quick
// Scenario 1 Bus vs the raw channel and scenario 3, in N interleaved rounds (default 5), one ratio line per round:
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --scenario1 [N]
// Scenarios 1 and 3, Bus and raw, in one process, measured in alternating turns (see PairedRun), N rounds (default 40):
//   dotnet run -c Release --project tests/Bus.Benchmarks -- --paired [N]
var mode = args.Length > 0 ? args[0] : null;
int Count(int fallback) => args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : fallback;
if (mode is "--paired" or "--scenario1" or "--quick" && Environment.GetEnvironmentVariable(SpinLimitVariable) != "0")
{
    return await RunWithoutSpinningAsync(args);
}

switch (mode)
{
    case "--paired":
        return await PairedRun.RunAsync(Count(40));
    case "--scenario1":
        return QuickRun.RunScenarioOne(Count(5));
    case "--quick":
        return QuickRun.Run();
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(
    args,
    DefaultConfig.Instance
        .AddJob(Job.Default.WithEnvironmentVariable(SpinLimitVariable, "0"))
        .AddDiagnoser(MemoryDiagnoser.Default));
return 0;

/// <summary>The thread pool's idle spinning, off for every library in every run (see QuickRun).</summary>
internal static partial class Program
{
    internal const string SpinLimitVariable = "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit";

    /// <summary>The thread pool reads the setting at start: runs this program again with it, and waits.</summary>
    private static async Task<int> RunWithoutSpinningAsync(string[] args)
    {
        var start = new System.Diagnostics.ProcessStartInfo(Environment.ProcessPath!);
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(typeof(Program).Assembly.Location);
        }

        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment[SpinLimitVariable] = "0";
        using var process = System.Diagnostics.Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
