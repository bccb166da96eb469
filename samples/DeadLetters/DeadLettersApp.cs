using Bus;
using Microsoft.Extensions.DependencyInjection;

namespace DeadLetters;

/// <summary>
/// Failures, backoff and the dead-letter store: invoices fail in four ways, the store says why for each (reason,
/// attempts, the last exception, when it first and last failed), and after the causes are fixed the dead letters are
/// replayed (by query, and one by id) and consumed. A rejected invoice stays in the store: replaying it cannot help.
/// </summary>
public static class DeadLettersApp
{
    public const string Queue = "invoices";

    /// <summary>Gets the importer's retry policy: twice, after 100 then 200 ms; a bad amount is never retried.</summary>
    public static RetryPolicy Retries { get; } =
        RetryPolicy.Exponential(2, TimeSpan.FromMilliseconds(100), factor: 2).Ignore<FormatException>();

    public static IReadOnlyList<ImportInvoice> Invoices { get; } =
    [
        new("INV-1", "acme", "100.00"),
        new("INV-2", "initech", "250.00"),   // the database times out once: the first retry imports it
        new("INV-3", "globex", "75.00"),     // globex is not a customer yet: retried, then dead-lettered
        new("INV-4", "globex", "20.00"),     // likewise
        new("INV-5", "acme", "12,50"),       // a decimal comma: FormatException, not retryable
        new("INV-6", "initech", "-40.00"),   // a negative amount: rejected by the importer
    ];

    public static void AddServices(IServiceCollection services, TextWriter output)
    {
        services.AddSingleton(new Journal(output));
        services.AddSingleton<CustomerDirectory>();
        services.AddSingleton<AmountParser>();
        services.AddSingleton(new InvoiceDatabase(new Dictionary<string, int>(StringComparer.Ordinal) { ["INV-2"] = 1 }));
    }

    public static void Configure(IMessageBusBuilder bus) => bus
        .AddConsumer<InvoiceImporter>(c =>
        {
            c.Queue = Queue;            // names the importer's own queue
            c.RetryPolicy = Retries;
        });

    /// <summary>Imports the invoices, inspects the dead letters, fixes the causes, replays, and reports.</summary>
    /// <param name="services">The services of a running bus configured with <see cref="Configure"/>.</param>
    /// <param name="waitUntilSettled">
    /// Waits until nothing is queued, in flight or waiting for a retry: on the real clock the host polls the bus's
    /// statistics; a test moves the harness's fake clock instead.
    /// </param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>What happened.</returns>
    public static async Task<DeadLettersOutcome> RunAsync(
        IServiceProvider services, Func<CancellationToken, Task> waitUntilSettled, CancellationToken cancellationToken = default)
    {
        var bus = services.GetRequiredService<IMessageBus>();
        var store = services.GetRequiredService<IDeadLetterStore>();
        var journal = services.GetRequiredService<Journal>();

        journal.Line($"1. Import {Invoices.Count} invoices (retries after 100 and 200 ms; FormatException not retried):");
        foreach (var invoice in Invoices)
        {
            await bus.PublishAsync(invoice, cancellationToken);
        }

        await waitUntilSettled(cancellationToken);

        journal.Line();
        journal.Line("2. The dead-letter store:");
        var failed = await store.QueryAsync(new DeadLetterQuery { Queue = Queue, MessageType = typeof(ImportInvoice) }, cancellationToken);
        foreach (var deadLetter in failed)
        {
            var invoice = (ImportInvoice)deadLetter.Message;
            var span = deadLetter.LastFailedAt - deadLetter.FirstFailedAt;
            journal.Line($"   {invoice.Number}: {deadLetter.Reason}, {deadLetter.Attempts} attempt(s) over {span.TotalMilliseconds:0} ms");
            journal.Line($"          {deadLetter.Description}");
            if (deadLetter.Error is { } error)
            {
                journal.Line($"          last error {error.Type}: {error.Message}");
            }
        }

        var firstPass = failed.Select(DeadLetterSummary.Of).ToList();

        journal.Line();
        journal.Line("3. Fix the causes and replay:");
        services.GetRequiredService<CustomerDirectory>().Add("globex");
        var replayed = await bus.ReplayAsync(
            new DeadLetterQuery { Queue = Queue, Reason = DeadLetterReason.MaxRetriesExceeded }, cancellationToken: cancellationToken);
        journal.Line($"   customer globex created; replayed {replayed} dead letter(s) with reason MaxRetriesExceeded");

        services.GetRequiredService<AmountParser>().AcceptsDecimalComma = true;
        var badAmount = await store.QueryAsync(new DeadLetterQuery { Queue = Queue, Reason = DeadLetterReason.NotRetryable }, cancellationToken);
        foreach (var deadLetter in badAmount)
        {
            if (await bus.ReplayAsync(deadLetter.Id, cancellationToken: cancellationToken))
            {
                replayed++;
                journal.Line($"   parser accepts decimal commas; replayed {((ImportInvoice)deadLetter.Message).Number} by its dead-letter id");
            }
        }

        await waitUntilSettled(cancellationToken);

        var remaining = (await store.QueryAsync(cancellationToken: cancellationToken)).Select(DeadLetterSummary.Of).ToList();
        var imported = services.GetRequiredService<InvoiceDatabase>().Imported;
        var outcome = new DeadLettersOutcome(firstPass, replayed, imported, remaining);
        journal.Line();
        journal.Line($"4. Imported {imported.Count} of {Invoices.Count}: {string.Join(", ", imported)}; {replayed} replayed; still in the store: "
            + string.Join(", ", remaining.Select(r => $"{r.Number} ({r.Reason})")) + ".");
        journal.Line(outcome.IsAsExpected ? "As expected." : "Not what was expected.");
        return outcome;
    }
}

/// <summary>A dead letter in short.</summary>
public sealed record DeadLetterSummary(string Number, DeadLetterReason Reason, int Attempts, string? ErrorType)
{
    public static DeadLetterSummary Of(DeadLetter deadLetter)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        return new(((ImportInvoice)deadLetter.Message).Number, deadLetter.Reason, deadLetter.Attempts, deadLetter.Error?.Type);
    }
}

/// <summary>What became of the invoices.</summary>
/// <param name="DeadLettered">The dead letters after the first pass.</param>
/// <param name="Replayed">How many dead letters were replayed after the fixes.</param>
/// <param name="Imported">The invoices imported, in order, replays included.</param>
/// <param name="Remaining">What is left in the store at the end.</param>
public sealed record DeadLettersOutcome(
    IReadOnlyList<DeadLetterSummary> DeadLettered, int Replayed, IReadOnlyList<string> Imported, IReadOnlyList<DeadLetterSummary> Remaining)
{
    public static IReadOnlyList<DeadLetterSummary> ExpectedDeadLetters { get; } =
    [
        new("INV-3", DeadLetterReason.MaxRetriesExceeded, 3, typeof(UnknownCustomerException).FullName),
        new("INV-4", DeadLetterReason.MaxRetriesExceeded, 3, typeof(UnknownCustomerException).FullName),
        new("INV-5", DeadLetterReason.NotRetryable, 1, typeof(FormatException).FullName),
        new("INV-6", DeadLetterReason.Rejected, 1, null),
    ];

    public bool IsAsExpected =>
        DeadLettered.OrderBy(d => d.Number, StringComparer.Ordinal).SequenceEqual(ExpectedDeadLetters)
        && Replayed == 3
        && Imported.Order(StringComparer.Ordinal).SequenceEqual(["INV-1", "INV-2", "INV-3", "INV-4", "INV-5"])
        && Remaining.SequenceEqual([ExpectedDeadLetters[3]]);
}
