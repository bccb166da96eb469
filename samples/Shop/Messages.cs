namespace Shop;

public sealed record OrderPlaced(int OrderId, string Customer, decimal Total);

public sealed record PaymentCompleted(int OrderId, decimal Amount);

public sealed record PaymentFailed(int OrderId, string Reason);
