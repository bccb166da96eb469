namespace Bus.DocTests;

/// <summary>The doc compiler itself: the rules in <see cref="ReadmeCodeTests"/> hold for made-up blocks.</summary>
public sealed class DocCompilerTests
{
    [Fact]
    public void Blocks_are_read_with_their_language_tags_first_line_and_heading()
    {
        var blocks = MarkdownCodeBlock.Parse("README.md", """
            # Title

            ## Part

            ```csharp complete
            var x = 1;
            ```

            ~~~bash
            dotnet test
            ~~~

            - a list item:

              ```cs
              int y = 2;
              ```
            """);

        blocks.Select(b => (b.Language, string.Join(' ', b.Tags), b.Line, b.Code, b.Heading)).Should().Equal(
            ("csharp", "complete", 6, "var x = 1;", "## Part"),
            ("bash", "", 10, "dotnet test", "## Part"),
            ("cs", "", 16, "int y = 2;", "## Part"));
    }

    [Fact]
    public void A_snippet_error_is_reported_at_its_markdown_line()
    {
        var diagnostics = DocCompiler.Compile(Snippet(40, "await publisher.PublishAsync(order);\nvar id = order.Id;"));

        diagnostics.Diagnostics.Should().ContainSingle().Which.Location.GetMappedLineSpan()
            .Should().Match<Microsoft.CodeAnalysis.FileLinePositionSpan>(s => s.Path == "README.md" && s.StartLinePosition.Line + 1 == 41);
    }

    [Fact]
    public void A_snippet_can_declare_types_after_its_statements_and_replace_a_type_of_the_context()
    {
        var compiled = DocCompiler.Compile(Snippet(1, """
            await publisher.PublishAsync(new OrderPlaced("A-1"));

            public sealed record OrderPlaced(string Number);
            """));

        compiled.Diagnostics.Should().BeEmpty();
    }

    [Fact]
    public void A_complete_block_gets_nothing_from_the_context()
    {
        var compiled = DocCompiler.Compile(Snippet(1, "await publisher.PublishAsync(new OrderPlaced(1, 1m));") with { Tags = [ReadmeCodeTests.Complete] });

        compiled.Diagnostics.Select(d => d.Id).Should().Contain("CS0103", "publisher is a variable of the context only");
    }

    [Fact]
    public void A_complete_program_that_loses_its_message_logs_a_warning()
    {
        var compiled = DocCompiler.Compile(Snippet(1, """
            using Bus;
            using Microsoft.Extensions.DependencyInjection;
            using Microsoft.Extensions.Hosting;

            var builder = Host.CreateApplicationBuilder(args);
            builder.Services.AddMessageBus(bus => bus.AddConsumer<SlowConsumer>());
            using var host = builder.Build();
            await host.StartAsync();
            await host.Services.GetRequiredService<IPublisher>().PublishAsync(new Ping());

            public sealed record Ping;

            public sealed class SlowConsumer : IConsumer<Ping>
            {
                // Never done on its own: only a stop (or the container going away) ends it.
                public async ValueTask ConsumeAsync(ConsumeContext<Ping> context, CancellationToken cancellationToken) =>
                    await new TaskCompletionSource().Task.WaitAsync(cancellationToken);
            }
            """) with { Tags = [ReadmeCodeTests.Complete] });
        compiled.Diagnostics.Should().BeEmpty();

        var output = DocRunner.RunProgram(compiled.Assembly!, TimeSpan.FromSeconds(30));

        output.Should().Contain("warn:", "a host disposed without a stop leaves the message unprocessed");
    }

    private static MarkdownCodeBlock Snippet(int line, string code) => new("README.md", line, "csharp", [], code, "## Test");
}
