namespace Bus.RabbitMQ.Tests.Support;

/// <summary>The message the broker tests publish most: an id to count, order and deduplicate by.</summary>
public sealed record Order(int Id);

/// <summary>A message with a stable wire name of its own, instead of its full type name.</summary>
[MessageType("bus-tests.shipped")]
public sealed record Shipped(int Id);

/// <summary>A request and its response.</summary>
public sealed record Quote(int Id);

public sealed record Price(int Id, decimal Amount);

/// <summary>A message whose size a test chooses.</summary>
public sealed record Blob(string Data);
