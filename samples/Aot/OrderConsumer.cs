using Bus;

namespace Aot;

/// <summary>Counts the orders it consumes; the program checks the count.</summary>
public sealed class OrderConsumer(OrderTally tally) : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken)
    {
        tally.Add(context.Message.Total);
        return default;
    }
}

/// <summary>What the consumer saw: how many orders, and their total.</summary>
public sealed class OrderTally
{
    private readonly Lock _lock = new();
    private decimal _total;
    private int _count;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    public void Add(decimal total)
    {
        lock (_lock)
        {
            _count++;
            _total += total;
        }
    }
}
