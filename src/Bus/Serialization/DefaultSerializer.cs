using System.Diagnostics.CodeAnalysis;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Bus;

/// <summary>
/// The serializer of a bus whose <see cref="BusOptions.Serializer"/> is not set: System.Text.Json over reflection where
/// the application allows reflection-based serialization, else none, and the start says what to set.
/// </summary>
internal static class DefaultSerializer
{
    /// <summary>The reflection-based default, or null when the application turned reflection-based serialization off.</summary>
    [UnconditionalSuppressMessage("Trimming", "IL2026", Justification = "Used only when JsonSerializer.IsReflectionEnabledByDefault, a feature switch that trimmed and native AOT applications turn off.")]
    [UnconditionalSuppressMessage("AOT", "IL3050", Justification = "Used only when JsonSerializer.IsReflectionEnabledByDefault, a feature switch that native AOT applications turn off.")]
    public static IMessageSerializer? Create() => JsonSerializer.IsReflectionEnabledByDefault
        ? new SystemTextJsonMessageSerializer(new JsonSerializerOptions { TypeInfoResolver = new DefaultJsonTypeInfoResolver() })
        : null;
}
