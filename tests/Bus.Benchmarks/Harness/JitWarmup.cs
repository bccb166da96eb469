using System.Diagnostics;
using System.Runtime;

namespace Bus.Benchmarks;

/// <summary>
/// Warms a case up until the JIT has nothing left to do. Tiered compilation promotes hot methods in the background
/// (tier 0, then instrumented, then optimized, plus on-stack replacement of long loops), 100 ms after the last new
/// compilation and only while the measured threads leave it a core. On the 2-core machine, Bus's publish path, which
/// has more methods to promote than a bare channel, reached its final code only after 6-8 rounds of 200,000 messages.
/// BenchmarkDotNet's two warm-up iterations do not cover that, so the first measured iterations ran slower code than
/// the last ones, which made the comparison noisy. Every case gets the same treatment: rounds, each followed by a short
/// pause that leaves the background compiler a core, until no method was compiled for half a second (at most 10 s; it
/// prints how long it took). Without the pauses, and with a whole second of quiet, warming up took two of the quick
/// run's three and a half minutes, the peers up to 19 s each.
/// </summary>
internal static class JitWarmup
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(500);
    private static readonly TimeSpan Pause = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(10);

    public static async Task RunAsync(Func<Task> round)
    {
        var start = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < Limit)
        {
            await round();

            // A pause between rounds: the JIT compiles the optimized code on a background thread, which the measured
            // threads starve of CPU on 2 cores while they run back to back.
            await Task.Delay(Pause);
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(quietSince) >= Quiet)
            {
                Console.WriteLine($"// JitWarmup: {Stopwatch.GetElapsedTime(start).TotalSeconds:0.0} s");
                return;
            }
        }

        Console.WriteLine($"// JitWarmup: stopped at the {Limit.TotalSeconds:0} s limit, the JIT still compiling");
    }
}
