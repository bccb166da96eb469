namespace Bus;

/// <summary>
/// A batch being consumed, as batch filters see it (<see cref="IBatchConsumeFilter"/>); a batch consumer gets it as
/// <see cref="Batch{TMessage}"/>, with the messages typed.
/// </summary>
/// <remarks>The bus reuses batch objects: a batch is valid only until the consumer's task completes.</remarks>
public abstract class BatchConsumeContext
{
    private protected BatchConsumeContext(string queue) => Queue = queue;

    /// <summary>Gets how many messages the batch holds.</summary>
    public int Count { get; private protected set; }

    /// <summary>Gets the name of the queue the messages came from.</summary>
    public string Queue { get; }

    /// <summary>Gets the services of this delivery: its DI scope when the consumer or a filter is scoped, else the root services.</summary>
    public IServiceProvider Services { get; internal set; } = default!;

    /// <summary>Gets the token the consumer gets: cancelled when the stop's drain runs out, or at the consumer timeout.</summary>
    public CancellationToken CancellationToken { get; internal set; }

    private protected Envelope[] Envelopes { get; set; } = [];

    /// <summary>Gets the envelope of a message: its id, headers, delivery count and the rest.</summary>
    /// <param name="index">From 0 to <see cref="Count"/> - 1.</param>
    /// <returns>The envelope.</returns>
    public Envelope GetEnvelope(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        return Envelopes[index];
    }
}
