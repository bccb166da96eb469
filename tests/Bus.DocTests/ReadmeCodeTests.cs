// The C# code of README.md and docs/*.md (the files are s_files) is compiled from the Markdown text itself, so the
// manual cannot drift from the API.
//
// The rules. Every fenced block whose info string starts with csharp (or cs, or c#) is compiled; the info string's next
// word chooses how:
//
//   ```csharp            A snippet (the default). It compiles in the context, Context/DocContext.cs: its using
//                        directives and type declarations as written, its statements as the body of an async method
//                        (so declarations and statements may come in any order). The statements can use the context's
//                        variables: builder (HostApplicationBuilder), services (IServiceCollection), bus (the
//                        IMessageBusBuilder of AddMessageBus(bus => ...)), messageBus (the running IMessageBus),
//                        publisher, monitor, order and orderId; and its example types (OrderPlaced, PaymentCompleted,
//                        PaymentConsumer, EmailConsumer, IPaymentGateway, ...). A type the snippet declares replaces
//                        the context's type of that name. The namespaces Bus, Bus.Testing, Microsoft.Extensions.
//                        DependencyInjection/Hosting/Logging and System.Diagnostics are imported.
//   ```csharp complete   Compiles exactly as pasted into a new console project: only that project's implicit usings
//                        (System, System.Collections.Generic, System.IO, System.Linq, System.Net.Http, System.Threading,
//                        System.Threading.Tasks), nullable enabled, nothing from the context. With top-level statements
//                        it is a program, without them a library. It is also run: a program with no arguments (it
//                        must end within 30 s, without an exception, having logged no warning or error), a library's
//                        xunit [Fact] methods each on a new instance (there must be at least one, and each must pass).
//   ```csharp fragment   Not compiled. For the rare excerpt that cannot compile (pseudo-code, part of a signature).
//
// Any other word fails the test, so a typo cannot switch a block off. Warnings fail like errors (except "this async
// method lacks await" in a snippet, and CS1701/CS1702, which the SDK does not report either). The first block under
// "## Quickstart" and under "### Testing with Bus.Testing" must be complete, and the Quickstart's log must say that
// the bus stopped with every accepted message settled, none dead-lettered.
//
// A failure names the block (README.md:45, its first line of code) and lists each diagnostic at its README line. The
// compilations reference what this project compiles against (the framework, ASP.NET Core, Bus,
// Bus.Testing, Bus.HealthChecks, Microsoft.Extensions.Hosting, OpenTelemetry.Extensions.Hosting, xunit.v3,
// FluentAssertions) and run the framework's System.Text.Json source generator: an example that needs another package
// needs it added to Bus.DocTests.csproj.
//
// To check a block while writing: dotnet test --project tests/Bus.DocTests (a few seconds).

using System.Collections.Immutable;
using Microsoft.CodeAnalysis;

namespace Bus.DocTests;

public sealed class ReadmeCodeTests
{
    /// <summary>The tag of a block that compiles as pasted into a new project.</summary>
    internal const string Complete = "complete";

    /// <summary>The tag of a block that is not compiled.</summary>
    internal const string Fragment = "fragment";

    // The Markdown files whose blocks are compiled, relative to the repository root: the README and the docs/*.md
    // pages (docs/design/*, design notes rather than documentation, are not). A new page joins by being added here.
    private static readonly string[] s_files =
    [
        "README.md",
        "docs/api.md",
        "docs/architecture.md",
        "docs/consumers-and-queues.md",
        "docs/failures.md",
        "docs/filters.md",
        "docs/health-checks.md",
        "docs/messages-and-publishing.md",
        "docs/observability.md",
        "docs/ordering-priority-batches.md",
        "docs/performance.md",
        "docs/releasing.md",
        "docs/request-reply.md",
        "docs/routing.md",
        "docs/scheduling.md",
        "docs/testing.md",
        "docs/topology.md",
        "docs/transports.md",
    ];

    private static readonly Lazy<ImmutableArray<MarkdownCodeBlock>> s_blocks = new(() =>
    [
        .. s_files.SelectMany(file =>
            MarkdownCodeBlock.Parse(file, File.ReadAllText(Path.Combine(DocCompiler.RepositoryRoot, file))).Where(b => b.IsCSharp)),
    ]);

    /// <summary>Gets the C# blocks that are compiled, by key (<c>README.md:45</c>).</summary>
    public static TheoryData<string> CompiledBlocks => [.. s_blocks.Value.Where(b => !b.Tags.Contains(Fragment)).Select(b => b.Key)];

    /// <summary>Gets the C# blocks tagged complete, by key.</summary>
    public static TheoryData<string> CompleteBlocks => [.. s_blocks.Value.Where(b => b.Tags.Contains(Complete)).Select(b => b.Key)];

    [Theory]
    [MemberData(nameof(CompiledBlocks))]
    public void The_csharp_block_compiles(string block)
    {
        var code = s_blocks.Value.Single(b => b.Key == block);
        code.Tags.Should().BeSubsetOf([Complete, Fragment], "a block's info string is csharp, csharp complete or csharp fragment ({0})", block);

        AssertCompiles(code);
    }

    [Theory]
    [MemberData(nameof(CompleteBlocks))]
    public async Task The_complete_block_runs_cleanly(string block)
    {
        var code = s_blocks.Value.Single(b => b.Key == block);
        var compiled = AssertCompiles(code);

        if (compiled.IsProgram)
        {
            var output = DocRunner.RunProgram(compiled.Assembly!, TimeSpan.FromSeconds(30));
            LogLevels(output).Should().NotContain(["warn", "fail", "crit"], "the program at {0} logs no warning or error; it logged:\n{1}", block, output);
        }
        else
        {
            var ran = await DocRunner.RunFactsAsync(compiled.Assembly!);
            ran.Should().NotBeEmpty("a complete block without top-level statements is a test class with [Fact] tests ({0})", block);
        }
    }

    [Fact]
    public void The_quickstart_consumes_its_order_and_stops_with_every_message_settled()
    {
        var compiled = AssertCompiles(FirstBlockUnder("## Quickstart"));

        var output = DocRunner.RunProgram(compiled.Assembly!, TimeSpan.FromSeconds(30));

        output.Should().Contain("Bus stopped; every accepted message was settled", "the Quickstart stops its host, which drains the bus")
            .And.Contain(", 0 dead-lettered", "the Quickstart's consumers do not fail")
            .And.NotContain(" 0 consumed", "the Quickstart's consumers get its order");
    }

    [Theory]
    [InlineData("## Quickstart")]
    [InlineData("### Testing with Bus.Testing")]
    public void The_first_example_under_the_heading_is_complete(string heading)
    {
        FirstBlockUnder(heading).Tags.Should().Equal([Complete], "the first example under {0} is a complete program or test", heading);
    }

    [Fact]
    public void The_readme_has_csharp_blocks_to_compile()
    {
        // A guard for the reader of the Markdown: a README without a block found would pass every test above.
        s_blocks.Value.Count(b => b.File == "README.md").Should().BeGreaterThan(10);
    }

    private static DocCompilation AssertCompiles(MarkdownCodeBlock code)
    {
        var compiled = DocCompiler.Compile(code);
        if (compiled.Diagnostics.Length > 0)
        {
            var how = code.Tags.Contains(Complete) ? "as pasted into a new console project" : "in the context of Context/DocContext.cs";
            Assert.Fail($"The block at {code.Key} ({code.Heading}) does not compile {how}:\n{string.Join('\n', compiled.Diagnostics.Select(Format))}");
        }

        return compiled;
    }

    private static MarkdownCodeBlock FirstBlockUnder(string heading) =>
        s_blocks.Value.FirstOrDefault(b => b.File == "README.md" && b.Heading == heading)
            ?? throw new InvalidOperationException($"README.md has no csharp block under the heading {heading}.");

    /// <summary>The levels of the console logger's lines (info, warn, fail, ...), colours removed.</summary>
    private static IEnumerable<string> LogLevels(string output) =>
        output.Split('\n')
            .Select(line => System.Text.RegularExpressions.Regex.Replace(line, "\u001b\\[[0-9;]*m", ""))
            .Where(line => line.Length > 5 && line[4] == ':' && !line.StartsWith(' '))
            .Select(line => line[..4]);

    private static string Format(Diagnostic diagnostic)
    {
        var span = diagnostic.Location.GetMappedLineSpan();
        return $"  {span.Path}({span.StartLinePosition.Line + 1},{span.StartLinePosition.Character + 1}): "
            + $"{diagnostic.Severity.ToString().ToLowerInvariant()} {diagnostic.Id}: {diagnostic.GetMessage(System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
