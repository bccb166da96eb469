using System.Globalization;

namespace Bus.HealthChecks;

/// <summary>Writes a duration the way a person reads it in a health report: "250 ms", "45 s", "2 min 5 s", "3 h 10 min".</summary>
internal static class Durations
{
    public static string Format(TimeSpan value)
    {
        if (value < TimeSpan.FromSeconds(1))
        {
            return Invariant($"{value.TotalMilliseconds:0} ms");
        }

        if (value < TimeSpan.FromMinutes(1))
        {
            return Invariant($"{value.TotalSeconds:0.#} s");
        }

        if (value < TimeSpan.FromHours(1))
        {
            return value.Seconds == 0 ? Invariant($"{value.Minutes} min") : Invariant($"{value.Minutes} min {value.Seconds} s");
        }

        var hours = (long)value.TotalHours;
        return value.Minutes == 0 ? Invariant($"{hours} h") : Invariant($"{hours} h {value.Minutes} min");
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
