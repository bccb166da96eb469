namespace Bus.Tests.Support;

public sealed record OrderPlaced(int Id, decimal Total = 10m);

public sealed record PaymentCompleted(int OrderId);

public sealed record Ping(int Hop);

public sealed record Pong(int Hop);

public sealed record Job(int Id);

public sealed record Animal(string Description);
