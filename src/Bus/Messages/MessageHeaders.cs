using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// An immutable copy of the headers given at publish: a small array searched linearly, because messages carry few
/// headers and a copy means a publisher that reuses its dictionary cannot change a message already in a queue.
/// </summary>
internal sealed class MessageHeaders : IReadOnlyDictionary<string, object?>
{
    public static readonly IReadOnlyDictionary<string, object?> Empty = new MessageHeaders([]);

    private readonly KeyValuePair<string, object?>[] _items;

    private MessageHeaders(KeyValuePair<string, object?>[] items) => _items = items;

    /// <summary>Validates and copies headers; throws <see cref="ArgumentException"/> naming the first bad one.</summary>
    public static IReadOnlyDictionary<string, object?>? Copy(IReadOnlyDictionary<string, object?>? headers, string paramName)
    {
        if (headers is null || headers.Count == 0)
        {
            return null;
        }

        var items = new KeyValuePair<string, object?>[headers.Count];
        var i = 0;
        foreach (var pair in headers)
        {
            if (string.IsNullOrEmpty(pair.Key))
            {
                throw new ArgumentException("Header names must not be null or empty.", paramName);
            }

            if (!HeaderValues.IsSupported(pair.Value))
            {
                throw new ArgumentException(
                    $"Header '{pair.Key}' has a value of type {pair.Value!.GetType()}; header values must be null, a string, a bool, a number, a Guid, a DateTime, a DateTimeOffset or a TimeSpan.",
                    paramName);
            }

            items[i++] = pair;
        }

        return new MessageHeaders(items);
    }

    /// <summary>A copy with one header set (replaced when present), or removed when <paramref name="value"/> is null.</summary>
    public static IReadOnlyDictionary<string, object?>? With(IReadOnlyDictionary<string, object?>? headers, string key, object? value)
    {
        var items = new List<KeyValuePair<string, object?>>();
        if (headers is not null)
        {
            foreach (var pair in headers)
            {
                if (!string.Equals(pair.Key, key, StringComparison.Ordinal))
                {
                    items.Add(pair);
                }
            }
        }

        if (value is not null)
        {
            items.Add(new KeyValuePair<string, object?>(key, value));
        }

        return items.Count == 0 ? null : new MessageHeaders([.. items]);
    }

    /// <summary>A copy with several headers set (each replacing one of the same name), built at its exact size.</summary>
    public static IReadOnlyDictionary<string, object?>? WithAll(IReadOnlyDictionary<string, object?>? headers, List<KeyValuePair<string, object?>> added)
    {
        if (added.Count == 0)
        {
            return headers;
        }

        var kept = 0;
        if (headers is not null)
        {
            foreach (var pair in headers)
            {
                kept += IndexOf(added, pair.Key) < 0 ? 1 : 0;
            }
        }

        var items = new KeyValuePair<string, object?>[kept + added.Count];
        var i = 0;
        if (headers is not null)
        {
            foreach (var pair in headers)
            {
                if (IndexOf(added, pair.Key) < 0)
                {
                    items[i++] = pair;
                }
            }
        }

        added.CopyTo(items, i);
        return new MessageHeaders(items);
    }

    public object? this[string key] => TryGetValue(key, out var value) ? value : throw new KeyNotFoundException($"No header named '{key}'.");

    public IEnumerable<string> Keys
    {
        get
        {
            foreach (var item in _items)
            {
                yield return item.Key;
            }
        }
    }

    public IEnumerable<object?> Values
    {
        get
        {
            foreach (var item in _items)
            {
                yield return item.Value;
            }
        }
    }

    public int Count => _items.Length;

    public bool ContainsKey(string key) => IndexOf(key) >= 0;

    public bool TryGetValue(string key, [MaybeNullWhen(false)] out object? value)
    {
        var index = IndexOf(key);
        if (index < 0)
        {
            value = null;
            return false;
        }

        value = _items[index].Value;
        return true;
    }

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_items).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    private static int IndexOf(List<KeyValuePair<string, object?>> items, string key)
    {
        for (var i = 0; i < items.Count; i++)
        {
            if (string.Equals(items[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private int IndexOf(string key)
    {
        for (var i = 0; i < _items.Length; i++)
        {
            if (string.Equals(_items[i].Key, key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
