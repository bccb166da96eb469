using System.Collections.Concurrent;
using System.Globalization;
using Bus;

namespace DeadLetters;

/// <summary>Writes what happens, one line per event.</summary>
public sealed class Journal(TextWriter output)
{
    private readonly Lock _lock = new();

    public void Write(string service, string text)
    {
        lock (_lock)
        {
            output.WriteLine($"  [{service,-8}] {text}");
        }
    }

    public void Line(string text = "")
    {
        lock (_lock)
        {
            output.WriteLine(text);
        }
    }
}

/// <summary>The customer does not exist (yet): another service may create it a moment later, so it is worth a retry.</summary>
public sealed class UnknownCustomerException : Exception
{
    public UnknownCustomerException()
    {
    }

    public UnknownCustomerException(string message)
        : base(message)
    {
    }

    public UnknownCustomerException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>The customers the importer knows; the "fix" in this sample adds the missing one.</summary>
public sealed class CustomerDirectory
{
    private readonly ConcurrentDictionary<string, bool> _customers = new(StringComparer.Ordinal) { ["acme"] = true, ["initech"] = true };

    public bool Contains(string customer) => _customers.ContainsKey(customer);

    public void Add(string customer) => _customers[customer] = true;
}

/// <summary>Reads amounts; the other "fix" in this sample teaches it the decimal comma ("12,50").</summary>
public sealed class AmountParser
{
    private volatile bool _acceptsDecimalComma;

    public bool AcceptsDecimalComma
    {
        get => _acceptsDecimalComma;
        set => _acceptsDecimalComma = value;
    }

    /// <exception cref="FormatException">The text is not an amount.</exception>
    public decimal Parse(string text) =>
        decimal.Parse(AcceptsDecimalComma ? text.Replace(',', '.') : text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
}

/// <summary>The database: it times out on a plan (calls per invoice number), and keeps what was imported.</summary>
public sealed class InvoiceDatabase(IReadOnlyDictionary<string, int> timeoutsPerInvoice)
{
    private readonly ConcurrentDictionary<string, int> _calls = new(StringComparer.Ordinal);
    private readonly ConcurrentQueue<string> _imported = new();

    public IReadOnlyList<string> Imported => [.. _imported];

    public void Insert(ImportInvoice invoice)
    {
        var call = _calls.AddOrUpdate(invoice.Number, 1, static (_, calls) => calls + 1);
        if (call <= timeoutsPerInvoice.GetValueOrDefault(invoice.Number))
        {
            throw new TimeoutException($"the database timed out inserting {invoice.Number}");
        }

        _imported.Enqueue(invoice.Number);
    }
}

/// <summary>
/// Imports invoices. What can go wrong, and what the bus does with it:
/// a database timeout or an unknown customer throws, and is retried with backoff, then dead-lettered as
/// <see cref="DeadLetterReason.MaxRetriesExceeded"/>; an amount that does not parse throws a <see cref="FormatException"/>,
/// which the retry policy ignores (retrying cannot fix the text): <see cref="DeadLetterReason.NotRetryable"/> at once;
/// a negative amount is rejected by the importer itself: <see cref="DeadLetterReason.Rejected"/>, no retries.
/// </summary>
public sealed class InvoiceImporter(CustomerDirectory customers, AmountParser parser, InvoiceDatabase database, Journal journal)
    : IConsumer<ImportInvoice>
{
    public ValueTask ConsumeAsync(ConsumeContext<ImportInvoice> context, CancellationToken cancellationToken)
    {
        var invoice = context.Message;
        var attempt = $"attempt {context.DeliveryCount}";
        try
        {
            var amount = parser.Parse(invoice.Amount);
            if (amount <= 0)
            {
                journal.Write("importer", $"{invoice.Number}: rejected, amount {invoice.Amount} is not positive ({attempt})");
                context.Reject($"amount {invoice.Amount} is not positive");
                return default;
            }

            if (!customers.Contains(invoice.Customer))
            {
                throw new UnknownCustomerException($"no customer '{invoice.Customer}'");
            }

            database.Insert(invoice);
            journal.Write("importer", $"{invoice.Number}: imported {amount:0.00} EUR for {invoice.Customer} ({attempt})");
            return default;
        }
        catch (Exception exception) when (exception is not OperationCanceledException)
        {
            journal.Write("importer", $"{invoice.Number}: {exception.GetType().Name}: {exception.Message} ({attempt})");
            throw;
        }
    }
}
