namespace Bus;

/// <summary>
/// Topic bindings as a trie of words, so that matching a key visits only the branches its words (and the wildcards)
/// lead to: the cost follows the key's length and the wildcards on its path, not the number of bindings.
/// </summary>
internal sealed class TopicTrie
{
    private readonly Node _root = new();

    public void Add(string pattern, BusQueue queue)
    {
        var node = _root;
        var previousWasHash = false;
        foreach (var word in pattern.Length == 0 ? [] : pattern.Split(TopicPattern.Separator))
        {
            // "#.#" matches exactly what "#" matches; collapsing them keeps matching linear in the key.
            if (word == TopicPattern.AnyWords)
            {
                if (!previousWasHash)
                {
                    node = node.AnyWords ??= new Node();
                }

                previousWasHash = true;
                continue;
            }

            previousWasHash = false;
            node = word == TopicPattern.OneWord
                ? node.OneWord ??= new Node()
                : GetOrAddWord(node, word);
        }

        node.Queues ??= [];
        if (!node.Queues.Contains(queue))
        {
            node.Queues.Add(queue);
        }
    }

    /// <summary>Collects the queues whose patterns match the key.</summary>
    public void Match(string key, HashSet<BusQueue> results)
    {
        Span<Range> words = stackalloc Range[TopicPattern.MaxWords];
        var count = TopicPattern.Split(key, words);
        HashSet<(Node, int)>? visited = null;
        Match(_root, key, words[..count], 0, results, ref visited);
    }

    private static void Match(Node node, string key, ReadOnlySpan<Range> words, int index, HashSet<BusQueue> results, ref HashSet<(Node, int)>? visited)
    {
        if (node.AnyWords is { } anyWords)
        {
            // Each '#' may swallow any number of words; remembering where it has been tried already keeps patterns such
            // as "#.a.#.a.#" from trying every split of a long key again and again.
            var tried = visited ??= [];
            for (var next = index; next <= words.Length; next++)
            {
                if (tried.Add((anyWords, next)))
                {
                    Match(anyWords, key, words, next, results, ref visited);
                }
            }
        }

        if (index == words.Length)
        {
            if (node.Queues is { } queues)
            {
                results.UnionWith(queues);
            }

            return;
        }

        if (node.Words is { } children
            && SpanKeyedLookup.TryGetValue(children, key.AsSpan(words[index]), out var child))
        {
            Match(child, key, words, index + 1, results, ref visited);
        }

        if (node.OneWord is { } oneWord)
        {
            Match(oneWord, key, words, index + 1, results, ref visited);
        }
    }

    private static Node GetOrAddWord(Node node, string word)
    {
        node.Words ??= new Dictionary<string, Node>(StringComparer.Ordinal);
        if (!node.Words.TryGetValue(word, out var child))
        {
            child = new Node();
            node.Words.Add(word, child);
        }

        return child;
    }

    private sealed class Node
    {
        public Dictionary<string, Node>? Words;
        public Node? OneWord;
        public Node? AnyWords;
        public List<BusQueue>? Queues;
    }
}
