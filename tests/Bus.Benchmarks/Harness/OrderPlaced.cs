namespace Bus.Benchmarks;

/// <summary>The one message every scenario and every peer sends.</summary>
public sealed record OrderPlaced(int Id, decimal Total);
