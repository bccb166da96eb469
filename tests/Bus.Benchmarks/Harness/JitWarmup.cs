using System.Diagnostics;
using System.Runtime;

namespace Bus.Benchmarks;

/// <summary>
/// Warms a case up until the JIT has nothing left to do. Tiered compilation promotes hot methods in the background
/// (tier 0, then instrumented, then optimized, plus on-stack replacement of long loops), 100 ms after the last new
/// compilation and only while the measured threads leave it a core. On the 2-core machine, Bus's publish path, which
/// has more methods to promote than a bare channel, reached its final code only after 6-8 rounds of 200,000 messages.
/// BenchmarkDotNet's two warm-up iterations do not cover that, so the first measured iterations ran slower code than
/// the last ones, which made the comparison noisy. Every case gets the same treatment: rounds until no method was
/// compiled for a whole second (at most 20 s).
/// </summary>
internal static class JitWarmup
{
    private static readonly TimeSpan Quiet = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(20);

    public static async Task RunAsync(Func<Task> round)
    {
        var start = Stopwatch.GetTimestamp();
        var compiled = JitInfo.GetCompiledMethodCount();
        var quietSince = Stopwatch.GetTimestamp();
        while (Stopwatch.GetElapsedTime(start) < Limit)
        {
            await round();
            var now = JitInfo.GetCompiledMethodCount();
            if (now != compiled)
            {
                compiled = now;
                quietSince = Stopwatch.GetTimestamp();
            }
            else if (Stopwatch.GetElapsedTime(quietSince) >= Quiet)
            {
                return;
            }
        }
    }
}
