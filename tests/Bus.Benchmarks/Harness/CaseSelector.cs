using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

namespace Bus.Benchmarks;

/// <summary>One benchmark case picked out of its class by method name and, optionally, by its parameters.</summary>
internal sealed record CaseSelector(Type Type, string Method, Func<BenchmarkCase, bool>? Where = null)
{
    public bool Matches(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.Type == Type
        && benchmarkCase.Descriptor.WorkloadMethod.Name == Method
        && (Where is null || Where(benchmarkCase));

    /// <summary>The cases of one class that <paramref name="selectors"/> pick, as one BenchmarkDotNet run.</summary>
    public static BenchmarkRunInfo RunOf(IConfig config, params CaseSelector[] selectors)
    {
        var all = BenchmarkConverter.TypeToBenchmarks(selectors[0].Type, config);
        return new BenchmarkRunInfo([.. all.BenchmarksCases.Where(c => selectors.Any(s => s.Matches(c)))], selectors[0].Type, all.Config);
    }
}
