namespace Rpc;

/// <summary>A request for a price; answered with a <see cref="Quote"/>.</summary>
public sealed record GetQuote(string Product, int Quantity);

/// <summary>The answer to <see cref="GetQuote"/>; <paramref name="RequestId"/> is the request's message id, the correlation key.</summary>
public sealed record Quote(string Product, int Quantity, decimal Total, Guid RequestId);

/// <summary>A request for a warehouse's stock of a product; answered with a <see cref="StockLevel"/>.</summary>
public sealed record CheckStock(string Product, string Warehouse);

public sealed record StockLevel(string Product, string Warehouse, int Units);
