namespace Aot;

/// <summary>An order, published once per order in the run.</summary>
public sealed record OrderPlaced(int OrderId, decimal Total);
