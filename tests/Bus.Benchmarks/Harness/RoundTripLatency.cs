using System.Diagnostics;

namespace Bus.Benchmarks;

/// <summary>
/// Single round-trip latencies and their percentiles. BenchmarkDotNet measures iterations, not single operations, so
/// the quick run samples each round trip itself, after a warm-up, in a fresh harness per library.
/// </summary>
public static class RoundTripLatency
{
    public static async Task<(double P50, double P99)> MeasureAsync(IRoundTripHarness harness, int warmUp, int samples)
    {
        await harness.StartAsync();
        try
        {
            for (var i = 0; i < warmUp; i++)
            {
                await harness.RoundTripAsync(i);
            }

            var microseconds = new double[samples];
            for (var i = 0; i < samples; i++)
            {
                var start = Stopwatch.GetTimestamp();
                await harness.RoundTripAsync(i);
                microseconds[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
            }

            Array.Sort(microseconds);
            return (microseconds[samples / 2], microseconds[(int)(samples * 0.99)]);
        }
        finally
        {
            await harness.DisposeAsync();
        }
    }
}
