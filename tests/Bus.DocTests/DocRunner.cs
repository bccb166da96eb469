using System.Reflection;
using System.Runtime.Loader;
using System.Text;

namespace Bus.DocTests;

/// <summary>Runs a compiled complete block: a program's entry point, or a test class's <c>[Fact]</c> methods.</summary>
internal static class DocRunner
{
    private static readonly Lock s_console = new();

    /// <summary>Runs a program with no arguments and returns what it wrote to the console (standard output and error).</summary>
    /// <param name="image">The compiled program.</param>
    /// <param name="timeout">How long the program may take.</param>
    /// <returns>The console output.</returns>
    public static string RunProgram(byte[] image, TimeSpan timeout)
    {
        var context = new AssemblyLoadContext("DocProgram", isCollectible: true);
        try
        {
            var entryPoint = context.LoadFromStream(new MemoryStream(image)).EntryPoint
                ?? throw new InvalidOperationException("The program has no entry point.");
            var arguments = entryPoint.GetParameters().Length == 0 ? null : new object[] { Array.Empty<string>() };

            // The console logger takes Console.Out when the host builds it, so the program's log lands in the writer.
            var output = new StringWriter(new StringBuilder(), System.Globalization.CultureInfo.InvariantCulture);
            var writer = TextWriter.Synchronized(output);
            lock (s_console)
            {
                var (stdout, stderr) = (Console.Out, Console.Error);
                Console.SetOut(writer);
                Console.SetError(writer);
                try
                {
                    // A top-level async program's entry point blocks until it ends; run it off the test's thread.
                    var run = Task.Run(() => Unwrap(() => entryPoint.Invoke(null, arguments)));
                    if (!run.Wait(timeout))
                    {
                        throw new TimeoutException($"The program did not end within {timeout.TotalSeconds} s. Its output so far:\n{output}");
                    }

                    run.GetAwaiter().GetResult();
                }
                finally
                {
                    Console.SetOut(stdout);
                    Console.SetError(stderr);
                }
            }

            return output.ToString();
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Runs every <c>[Fact]</c> method of the compiled test classes, each on a new instance.</summary>
    /// <param name="image">The compiled tests.</param>
    /// <returns>The names of the tests that ran (each passed, or this threw its exception).</returns>
    public static async Task<IReadOnlyList<string>> RunFactsAsync(byte[] image)
    {
        var context = new AssemblyLoadContext("DocTests", isCollectible: true);
        try
        {
            var ran = new List<string>();
            foreach (var type in context.LoadFromStream(new MemoryStream(image)).GetExportedTypes())
            {
                foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance))
                {
                    if (!method.GetCustomAttributes().Any(a => a is FactAttribute and not TheoryAttribute))
                    {
                        continue;
                    }

                    var instance = Activator.CreateInstance(type);
                    try
                    {
                        switch (Unwrap(() => method.Invoke(instance, null)))
                        {
                            case Task task:
                                await task.WaitAsync(TimeSpan.FromSeconds(30));
                                break;
                            case ValueTask valueTask:
                                await valueTask.AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                                break;
                        }
                    }
                    finally
                    {
                        switch (instance)
                        {
                            case IAsyncDisposable asyncDisposable:
                                await asyncDisposable.DisposeAsync();
                                break;
                            case IDisposable disposable:
                                disposable.Dispose();
                                break;
                        }
                    }

                    ran.Add($"{type.Name}.{method.Name}");
                }
            }

            return ran;
        }
        finally
        {
            context.Unload();
        }
    }

    /// <summary>Invokes through reflection, throwing the invoked code's own exception rather than a TargetInvocationException.</summary>
    private static object? Unwrap(Func<object?> invoke)
    {
        try
        {
            return invoke();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
            throw;
        }
    }
}
