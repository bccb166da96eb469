namespace Bus.Benchmarks;

/// <summary>The reply every round-trip scenario sends back for an <see cref="OrderPlaced"/>.</summary>
public sealed record OrderAccepted(int Id);

/// <summary>Scenario 5: one library set up for request/reply; one round trip = request out, response back.</summary>
public interface IRoundTripHarness : IAsyncDisposable
{
    Task StartAsync();

    Task RoundTripAsync(int id);
}
