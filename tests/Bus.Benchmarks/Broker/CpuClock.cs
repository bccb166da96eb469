using System.Diagnostics;
using System.Globalization;

namespace Bus.Benchmarks;

/// <summary>
/// CPU time used by this process and, when the broker runs on this machine (its Erlang VM, <c>beam.smp</c>, is visible
/// in <c>/proc</c>), by the broker: on 2 vCPUs shared with the broker, throughput is what is left of the CPU after the
/// broker's share, so CPU per message tells where a contender's time goes.
/// </summary>
internal static class CpuClock
{
    private static readonly int? s_brokerPid = FindBroker();

    /// <summary>Whether the broker's CPU time can be read (Linux, broker on this machine, readable by this user).</summary>
    public static bool SeesBroker => s_brokerPid is not null;

    public static TimeSpan Process()
    {
        using var self = System.Diagnostics.Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>The broker's user + system CPU time (10 ms resolution), or zero when it cannot be read.</summary>
    public static TimeSpan Broker()
    {
        if (s_brokerPid is not { } pid)
        {
            return TimeSpan.Zero;
        }

        try
        {
            // /proc/<pid>/stat: fields 14 and 15 (utime, stime) in clock ticks, after the ")" that ends the command name.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException)
        {
            return TimeSpan.Zero;
        }
    }

    /// <summary>CPU time the whole machine was busy (every core; <c>/proc/stat</c>, 10 ms resolution), or zero off Linux.</summary>
    public static TimeSpan Machine()
    {
        try
        {
            // "cpu  user nice system idle iowait irq softirq steal ...", in clock ticks of 10 ms.
            var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries);
            long Field(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds((Field(1) + Field(2) + Field(3) + Field(6) + Field(7) + Field(8)) / 100.0);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return TimeSpan.Zero;
        }
    }

    private static int? FindBroker()
    {
        if (!OperatingSystem.IsLinux() || !Directory.Exists("/proc"))
        {
            return null;
        }

        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(directory), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var commandLine = File.ReadAllText(Path.Combine(directory, "cmdline"));
                if (commandLine.Contains("beam.smp", StringComparison.Ordinal) && commandLine.Contains("rabbit", StringComparison.Ordinal))
                {
                    return pid;
                }
            }
            catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
            {
                // Gone, or not ours to read.
            }
        }

        return null;
    }
}
