using System.Collections.Concurrent;

namespace Shop;

/// <summary>The bank could not answer this time; trying again later may work.</summary>
public sealed class PaymentGatewayException : Exception
{
    public PaymentGatewayException()
    {
    }

    public PaymentGatewayException(string message)
        : base(message)
    {
    }

    public PaymentGatewayException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A stand-in for the card processor. It follows a plan so the sample tells the same story every run: the plan says
/// how many calls for an order time out before one goes through (<see cref="int.MaxValue"/>: the bank is down for good).
/// </summary>
public sealed class PaymentGateway(IReadOnlyDictionary<int, int> timeoutsPerOrder)
{
    private readonly ConcurrentDictionary<int, int> _calls = new();

    public void Charge(OrderPlaced order)
    {
        var call = _calls.AddOrUpdate(order.OrderId, 1, static (_, calls) => calls + 1);
        if (timeoutsPerOrder.TryGetValue(order.OrderId, out var timeouts) && call <= timeouts)
        {
            throw new PaymentGatewayException($"the bank of {order.Customer} timed out (call {call})");
        }
    }
}
