using System.Collections.Immutable;

namespace Bus.DocTests;

/// <summary>A fenced code block of a Markdown file.</summary>
/// <param name="File">The Markdown file, relative to the repository root, with forward slashes (<c>README.md</c>).</param>
/// <param name="Line">The 1-based line of the block's first line of code (the line after the opening fence).</param>
/// <param name="Language">The info string's first word, in lower case (<c>csharp</c>); empty when there is none.</param>
/// <param name="Tags">The info string's other words (<c>complete</c>, <c>fragment</c>).</param>
/// <param name="Code">The code, without the fences and without the fence's indentation.</param>
/// <param name="Heading">The nearest heading above the block (<c>## Quickstart</c>), empty when there is none.</param>
internal sealed record MarkdownCodeBlock(string File, int Line, string Language, ImmutableArray<string> Tags, string Code, string Heading)
{
    /// <summary>Gets the key a test case names the block by: <c>README.md:45</c>.</summary>
    public string Key => $"{File}:{Line}";

    /// <summary>Gets a value indicating whether the block is C# (<c>csharp</c>, <c>cs</c> or <c>c#</c>).</summary>
    public bool IsCSharp => Language is "csharp" or "cs" or "c#";

    /// <summary>Reads the fenced code blocks of a Markdown text (CommonMark fences: ``` or ~~~, indented up to 3 spaces).</summary>
    /// <param name="file">The file name the blocks report.</param>
    /// <param name="markdown">The Markdown text.</param>
    /// <returns>The blocks, in order.</returns>
    public static ImmutableArray<MarkdownCodeBlock> Parse(string file, string markdown)
    {
        var lines = markdown.ReplaceLineEndings("\n").Split('\n');
        var blocks = ImmutableArray.CreateBuilder<MarkdownCodeBlock>();
        var heading = "";
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var indent = line.Length - line.TrimStart(' ').Length;
            var trimmed = line.TrimStart(' ');
            if (indent <= 3 && trimmed.StartsWith('#'))
            {
                heading = trimmed.TrimEnd();
                continue;
            }

            if (indent > 3 || !(trimmed.StartsWith("```", StringComparison.Ordinal) || trimmed.StartsWith("~~~", StringComparison.Ordinal)))
            {
                continue;
            }

            var fenceChar = trimmed[0];
            var fenceLength = trimmed.Length - trimmed.TrimStart(fenceChar).Length;
            var info = trimmed[fenceLength..].Trim();
            var words = info.Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var language = words.Length > 0 ? words[0].ToLowerInvariant() : "";
            var tags = words.Length > 1 ? words[1..].ToImmutableArray() : [];

            var code = new List<string>();
            var end = i + 1;
            for (; end < lines.Length; end++)
            {
                var closing = lines[end].Trim(' ');
                var closingIndent = lines[end].Length - lines[end].TrimStart(' ').Length;
                if (closingIndent <= 3 && closing.Length >= fenceLength && closing.All(c => c == fenceChar))
                {
                    break;
                }

                // A fence indented by n spaces has its content's first n spaces removed (CommonMark).
                var content = lines[end];
                var remove = Math.Min(indent, content.Length - content.TrimStart(' ').Length);
                code.Add(content[remove..]);
            }

            blocks.Add(new MarkdownCodeBlock(file, i + 2, language, tags, string.Join('\n', code), heading));
            i = end;
        }

        return blocks.ToImmutable();
    }
}
