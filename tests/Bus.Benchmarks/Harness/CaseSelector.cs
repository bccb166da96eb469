using BenchmarkDotNet.Running;

namespace Bus.Benchmarks;

/// <summary>One benchmark case picked out of its class by method name and, optionally, by its parameters.</summary>
internal sealed record CaseSelector(Type Type, string Method, Func<BenchmarkCase, bool>? Where = null)
{
    public bool Matches(BenchmarkCase benchmarkCase) =>
        benchmarkCase.Descriptor.Type == Type
        && benchmarkCase.Descriptor.WorkloadMethod.Name == Method
        && (Where is null || Where(benchmarkCase));
}
