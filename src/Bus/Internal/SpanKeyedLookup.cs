using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// Looks a string key up by a span of chars. On .NET 9 and later through the dictionary's alternate lookup, which
/// allocates nothing; .NET 8 has none, so there the key is made a string first: one string per word looked up, on a topic
/// exchange's route-cache misses only (every publish when <see cref="BusOptions.RoutingCacheSize"/> is 0).
/// </summary>
internal static class SpanKeyedLookup
{
    public static bool TryGetValue<TValue>(Dictionary<string, TValue> dictionary, ReadOnlySpan<char> key, [MaybeNullWhen(false)] out TValue value)
    {
#if NET9_0_OR_GREATER
        return dictionary.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(key, out value);
#else
        return dictionary.TryGetValue(key.ToString(), out value);
#endif
    }
}
