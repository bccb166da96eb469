namespace Bus;

/// <summary>
/// Topic keys and patterns: dot-separated words, where in a pattern <c>*</c> stands for exactly one word and <c>#</c>
/// for zero or more. As in RabbitMQ, an empty key has no words.
/// </summary>
internal static class TopicPattern
{
    public const char Separator = '.';
    public const string OneWord = "*";
    public const string AnyWords = "#";

    /// <summary>The most words a key of <see cref="RoutingKeys.MaxLength"/> characters can have.</summary>
    public const int MaxWords = (RoutingKeys.MaxLength / 2) + 1;

    /// <summary>Returns what is wrong with a binding pattern, or null when it is well formed.</summary>
    public static string? Validate(string pattern)
    {
        if (RoutingKeys.Validate(pattern) is { } tooLong)
        {
            return tooLong;
        }

        if (pattern.Length == 0)
        {
            return null;
        }

        // Checked once, when the binding is made: splitting into strings costs nothing that matters here.
        foreach (var word in pattern.Split(Separator))
        {
            if (word.Length == 0)
            {
                return $"the topic pattern '{pattern}' has an empty word (a leading, trailing or doubled '.')";
            }

            if (word.Length > 1 && word.AsSpan().ContainsAny('*', '#'))
            {
                return $"the topic pattern '{pattern}' has the word '{word}': '*' and '#' must stand alone between dots";
            }
        }

        return null;
    }

    /// <summary>Splits a key into word ranges; returns the number of words.</summary>
    public static int Split(string key, Span<Range> words)
    {
        if (key.Length == 0)
        {
            return 0;
        }

        return key.AsSpan().Split(words, Separator);
    }

    /// <summary>
    /// The reference matcher, which the trie must agree with: a table of "pattern words from p match key words from k",
    /// filled from the end, so any pattern costs at most (pattern words + 1) x (key words + 1) steps.
    /// </summary>
    public static bool IsMatch(string pattern, string key)
    {
        var patternWords = pattern.Length == 0 ? [] : pattern.Split(Separator);
        var keyWords = key.Length == 0 ? [] : key.Split(Separator);
        var matches = new bool[patternWords.Length + 1, keyWords.Length + 1];
        matches[patternWords.Length, keyWords.Length] = true;
        for (var p = patternWords.Length - 1; p >= 0; p--)
        {
            for (var k = keyWords.Length; k >= 0; k--)
            {
                matches[p, k] = patternWords[p] == AnyWords
                    ? matches[p + 1, k] || (k < keyWords.Length && matches[p, k + 1])
                    : k < keyWords.Length
                        && (patternWords[p] == OneWord || string.Equals(patternWords[p], keyWords[k], StringComparison.Ordinal))
                        && matches[p + 1, k + 1];
            }
        }

        return matches[0, 0];
    }
}
