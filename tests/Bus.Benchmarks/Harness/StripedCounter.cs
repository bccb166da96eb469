namespace Bus.Benchmarks;

/// <summary>
/// A count that threads add to at once without contending: each thread increments a slot of its own (picked by its
/// managed thread id), 128 bytes from the others, and reading sums the slots. One shared interlocked counter would
/// bounce its cache line between the publishing and the consuming core on every span and measurement, a cost of the
/// benchmark's listener that no real exporter has and that would be charged to the library.
/// </summary>
public sealed class StripedCounter
{
    private const int Slots = 64;
    private const int Stride = 16; // longs: 128 bytes, past the adjacent-line prefetcher.
    private readonly long[] _counts = new long[Slots * Stride];

    public void Increment() => Interlocked.Increment(ref _counts[(Environment.CurrentManagedThreadId % Slots) * Stride]);

    public long Sum()
    {
        long sum = 0;
        for (var slot = 0; slot < Slots; slot++)
        {
            sum += Volatile.Read(ref _counts[slot * Stride]);
        }

        return sum;
    }
}
