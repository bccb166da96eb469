using Bus;

namespace Rpc;

/// <summary>Writes what happens, one line per event.</summary>
public sealed class Journal(TextWriter output)
{
    private readonly Lock _lock = new();

    public void Write(string service, string text)
    {
        lock (_lock)
        {
            output.WriteLine($"  [{service,-9}] {text}");
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

/// <summary>Answers quote requests from a price list; a product it has no price for makes it throw.</summary>
public sealed class PricingService(Journal journal) : IConsumer<GetQuote>
{
    private static readonly Dictionary<string, decimal> s_prices = new(StringComparer.Ordinal)
    {
        ["widget"] = 9.99m,
        ["gadget"] = 24.50m,
    };

    public async ValueTask ConsumeAsync(ConsumeContext<GetQuote> context, CancellationToken cancellationToken)
    {
        var request = context.Message;
        journal.Write("pricing", $"request {Ids.Short(context.MessageId)} (correlation {Ids.Short(context.CorrelationId)}, "
            + $"IsRequest {context.IsRequest}): {request.Quantity} x {request.Product}");
        if (!s_prices.TryGetValue(request.Product, out var price))
        {
            throw new KeyNotFoundException($"no price for '{request.Product}'");
        }

        // The request's message id is the correlation key the requester waits on; the response finds it by that id.
        await context.RespondAsync(new Quote(request.Product, request.Quantity, price * request.Quantity, context.MessageId), cancellationToken);
    }
}

/// <summary>
/// The link to the warehouses. The one in Lyon is offline: a stock check waits for the link to come back, as a call to
/// a remote service that does not answer would. The requester does not wait that long.
/// </summary>
public sealed class WarehouseLink
{
    private readonly TaskCompletionSource _online = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task WhenOnline => _online.Task;

    public void Reconnect() => _online.TrySetResult();
}

/// <summary>Answers stock checks, once the warehouse link is up.</summary>
public sealed class WarehouseService(WarehouseLink link, Journal journal) : IConsumer<CheckStock>
{
    public async ValueTask ConsumeAsync(ConsumeContext<CheckStock> context, CancellationToken cancellationToken)
    {
        var request = context.Message;
        journal.Write("warehouse", $"request {Ids.Short(context.MessageId)}: stock of {request.Product} in {request.Warehouse}; waiting for the link");
        await link.WhenOnline.WaitAsync(cancellationToken);

        // Too late: the requester gave up. The bus drops a response nobody waits for (logged at debug, event 28).
        journal.Write("warehouse", $"request {Ids.Short(context.MessageId)}: link is back, answering late");
        await context.RespondAsync(new StockLevel(request.Product, request.Warehouse, 12), cancellationToken);
    }
}

/// <summary>Shortens ids for printing: a UUIDv7's last six hex digits tell requests of one run apart.</summary>
public static class Ids
{
    public static string Short(Guid id) => "..." + id.ToString("N")[^6..];
}
