namespace Bus.Benchmarks;

/// <summary>
/// One library set up for scenario 1 (publish, one queue, one consumer), so Bus and its peers run the same workload:
/// publish <c>count</c> <see cref="OrderPlaced"/> messages and complete when the consumer body has run that many times.
/// </summary>
public interface IThroughputHarness : IAsyncDisposable
{
    /// <summary>Builds and starts the library, configured as its documentation recommends for in-process use.</summary>
    Task StartAsync();

    /// <summary>Publishes <paramref name="count"/> messages and waits until the consumer has run for each.</summary>
    Task PublishAndWaitAsync(int count);
}
