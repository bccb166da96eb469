using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using System.Text;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using Microsoft.CodeAnalysis.Emit;

namespace Bus.DocTests;

/// <summary>Compiles a Markdown file's C# block by the rules in <see cref="ReadmeCodeTests"/>.</summary>
internal static class DocCompiler
{
    /// <summary>The global usings of a new console project (<c>ImplicitUsings</c> of <c>Microsoft.NET.Sdk</c>).</summary>
    private const string ConsoleImplicitUsings = """
        global using System;
        global using System.Collections.Generic;
        global using System.IO;
        global using System.Linq;
        global using System.Net.Http;
        global using System.Threading;
        global using System.Threading.Tasks;
        """;

    private static readonly CSharpParseOptions s_parseOptions = new(LanguageVersion.Latest, DocumentationMode.None);

    private static readonly Lazy<ImmutableArray<MetadataReference>> s_references = new(LoadReferences);

    /// <summary>The framework's System.Text.Json source generator, which a project runs by default (ShopJson.Default).</summary>
    private static readonly Lazy<ImmutableArray<ISourceGenerator>> s_generators = new(LoadGenerators);

    private static readonly Lazy<SyntaxTree> s_implicitUsings = new(() => Parse(ConsoleImplicitUsings, "ImplicitUsings.g.cs"));

    private static readonly Lazy<SyntaxTree> s_context = new(() => Parse(ReadResource("DocContext.cs"), "Context/DocContext.cs"));

    /// <summary>Gets the repository's root directory, where README.md is.</summary>
    public static string RepositoryRoot { get; } = Metadata("DocTests.RepositoryRoot");

    /// <summary>Compiles a block: its errors and warnings, located at the Markdown file's lines, and the assembly.</summary>
    /// <param name="block">A C# block that is not a fragment.</param>
    /// <returns>The diagnostics (empty when the block compiles cleanly) and the assembly (null when it does not compile).</returns>
    public static DocCompilation Compile(MarkdownCodeBlock block)
    {
        var complete = block.Tags.Contains(ReadmeCodeTests.Complete);
        var trees = complete
            ? [s_implicitUsings.Value, Parse($"#line {block.Line} \"{block.File}\"\n{block.Code}\n", block.File)]
            : WrapSnippet(block);

        // As the SDK does: CS1701/CS1702 (a package built against an older System.Runtime) are not warnings.
        var suppressed = ImmutableDictionary<string, ReportDiagnostic>.Empty
            .Add("CS1701", ReportDiagnostic.Suppress)
            .Add("CS1702", ReportDiagnostic.Suppress);
        if (!complete)
        {
            suppressed = suppressed.Add("CS1998", ReportDiagnostic.Suppress);  // a snippet's method is async whether or not it awaits
        }

        var hasStatements = trees.Any(t => t.GetCompilationUnitRoot().Members.OfType<GlobalStatementSyntax>().Any());
        var options = new CSharpCompilationOptions(hasStatements ? OutputKind.ConsoleApplication : OutputKind.DynamicallyLinkedLibrary, optimizationLevel: OptimizationLevel.Debug)
            .WithNullableContextOptions(NullableContextOptions.Enable)
            .WithWarningLevel(9999)
            .WithSpecificDiagnosticOptions(suppressed);

        Compilation compilation = CSharpCompilation.Create($"DocBlock_{block.Line}", trees, s_references.Value, options);
        CSharpGeneratorDriver.Create(s_generators.Value, parseOptions: s_parseOptions)
            .RunGeneratorsAndUpdateCompilation(compilation, out compilation, out _);
        using var image = new MemoryStream();
        // The PDB is embedded, so a stack trace through the block's code names its Markdown lines.
        var result = compilation.Emit(image, options: new EmitOptions(debugInformationFormat: DebugInformationFormat.Embedded));
        var diagnostics = result.Diagnostics
            .Where(d => d.Severity >= DiagnosticSeverity.Warning)
            .OrderBy(d => d.Location.GetMappedLineSpan().StartLinePosition.Line)
            .ToImmutableArray();
        return new DocCompilation(diagnostics, result.Success ? image.ToArray() : null, hasStatements);
    }

    /// <summary>
    /// A snippet in the context: its using directives and declarations at the top level, its statements the body of
    /// <c>DocSnippet.RunAsync</c>, each piece under a <c>#line</c> directive that points at its Markdown line, and the
    /// context without the types the snippet declares itself.
    /// </summary>
    private static SyntaxTree[] WrapSnippet(MarkdownCodeBlock block)
    {
        var root = Parse(block.Code, block.File).GetCompilationUnitRoot();
        var usings = new StringBuilder();
        var declarations = new StringBuilder();
        var statements = new StringBuilder();
        foreach (var node in root.Externs.Cast<SyntaxNode>().Concat(root.Usings).Concat(root.AttributeLists))
        {
            Append(usings, node);
        }

        foreach (var member in root.Members)
        {
            Append(member is GlobalStatementSyntax ? statements : declarations, member);
        }

        var text = $$"""
            {{usings}}
            {{declarations}}
            #line hidden
            internal static partial class DocSnippet
            {
                internal static async Task RunAsync()
                {
            {{statements}}
            #line hidden
                }
            }
            """;

        var declared = root.Members.Select(DeclaredName).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var context = s_context.Value.GetCompilationUnitRoot();
        var replaced = context.Members.Where(m => DeclaredName(m) is { } name && declared.Contains(name)).ToArray();
        var contextTree = replaced.Length == 0
            ? s_context.Value
            : s_context.Value.WithRootAndOptions(context.RemoveNodes(replaced, SyntaxRemoveOptions.KeepNoTrivia)!, s_parseOptions);

        return [s_implicitUsings.Value, contextTree, Parse(text, block.File)];

        void Append(StringBuilder to, SyntaxNode node)
        {
            // FullSpan starts at the first line of the node's leading trivia (its comments), right after the previous line.
            var line = root.SyntaxTree.GetLineSpan(node.FullSpan).StartLinePosition.Line;
            to.Append(CultureInfo.InvariantCulture, $"#line {block.Line + line} \"{block.File}\"\n");
            to.Append(node.ToFullString().TrimEnd('\n', '\r', ' ')).Append('\n');
        }
    }

    private static string? DeclaredName(MemberDeclarationSyntax member) => member switch
    {
        BaseTypeDeclarationSyntax type => type.Identifier.ValueText,
        DelegateDeclarationSyntax @delegate => @delegate.Identifier.ValueText,
        _ => null,
    };

    private static SyntaxTree Parse(string text, string path) =>
        CSharpSyntaxTree.ParseText(text, s_parseOptions, path, Encoding.UTF8);

    private static ImmutableArray<MetadataReference> LoadReferences()
    {
        var file = Metadata("DocTests.ReferencesFile");
        return [.. File.ReadAllLines(file)
            .Where(line => line.Length > 0)
            .Select(path => (MetadataReference)MetadataReference.CreateFromFile(path))];
    }

    private static ImmutableArray<ISourceGenerator> LoadGenerators()
    {
        // The generator ships in the framework's reference pack: packs/Microsoft.NETCore.App.Ref/<v>/analyzers/dotnet/cs.
        var json = File.ReadAllLines(Metadata("DocTests.ReferencesFile"))
            .Single(path => Path.GetFileName(path) == "System.Text.Json.dll" && path.Contains("Microsoft.NETCore.App.Ref", StringComparison.Ordinal));
        var generator = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(json)!, "..", "..", "analyzers", "dotnet", "cs", "System.Text.Json.SourceGeneration.dll"));
        return new Microsoft.CodeAnalysis.Diagnostics.AnalyzerFileReference(generator, new GeneratorAssemblyLoader()).GetGenerators(LanguageNames.CSharp);
    }

    private sealed class GeneratorAssemblyLoader : Microsoft.CodeAnalysis.IAnalyzerAssemblyLoader
    {
        public void AddDependencyLocation(string fullPath)
        {
        }

        public Assembly LoadFromPath(string fullPath) => Assembly.LoadFrom(fullPath);
    }

    private static string ReadResource(string name)
    {
        using var stream = typeof(DocCompiler).Assembly.GetManifestResourceStream($"Bus.DocTests.Context.{name}")
            ?? throw new InvalidOperationException($"The resource Bus.DocTests.Context.{name} is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    private static string Metadata(string key) =>
        typeof(DocCompiler).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == key)?.Value
            ?? throw new InvalidOperationException($"The assembly metadata {key} is missing: build the project with dotnet build.");
}

/// <summary>The outcome of compiling a block.</summary>
/// <param name="Diagnostics">Its errors and warnings.</param>
/// <param name="Assembly">The compiled assembly; null when there were errors.</param>
/// <param name="IsProgram">Whether the block has top-level statements (a program) rather than declarations only.</param>
internal sealed record DocCompilation(ImmutableArray<Diagnostic> Diagnostics, byte[]? Assembly, bool IsProgram);
