namespace Bus.Tests.Platform;

public sealed class TargetRuntimeTests
{
    [Fact]
    public void Each_target_framework_build_runs_on_the_runtime_it_targets()
    {
        // A .NET 8 build rolled forward onto the .NET 10 runtime would prove nothing about .NET 8: the net8.0 tests are
        // self-contained with the 8.0 runtime pack, and this checks they really run on it.
#if NET8_0
        Environment.Version.Major.Should().Be(8);
#else
        Environment.Version.Major.Should().Be(10);
#endif
    }
}
