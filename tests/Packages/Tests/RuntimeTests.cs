using System.Reflection;
using System.Runtime.InteropServices;
using Bus;
using Xunit;

public sealed class RuntimeTests
{
    [Fact]
    public void Runs_the_packed_Bus_on_the_runtime_its_target_framework_names()
    {
#if NET10_0_OR_GREATER
        const int targetMajor = 10;
#else
        const int targetMajor = 8;
#endif
        var busVersion = typeof(IPublisher).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion;
        TestContext.Current.SendDiagnosticMessage($"Bus {busVersion} on {RuntimeInformation.FrameworkDescription}");

        Assert.Equal(targetMajor, Environment.Version.Major);
        Assert.Equal("Bus", typeof(IPublisher).Assembly.GetName().Name);
    }
}
