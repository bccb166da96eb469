using System.Diagnostics;

namespace Bus;

/// <summary>
/// A binding from an exchange to a queue: messages the exchange's routing strategy matches against it go to the queue.
/// </summary>
[DebuggerDisplay("{Exchange,nq} -> {Queue,nq} key={RoutingKey}")]
public sealed class Binding : IEquatable<Binding>
{
    private static readonly IReadOnlyDictionary<string, object?> s_noArguments = new Dictionary<string, object?>();

    /// <summary>Creates a binding.</summary>
    /// <param name="exchange">The exchange name.</param>
    /// <param name="queue">The queue name.</param>
    /// <param name="routingKey">The binding key (a pattern for topic exchanges); ignored by fanout and headers exchanges.</param>
    /// <param name="arguments">Binding arguments; headers exchanges match them against message headers.</param>
    /// <exception cref="ArgumentException">A name is null or empty.</exception>
    public Binding(string exchange, string queue, string routingKey = "", IReadOnlyDictionary<string, object?>? arguments = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(exchange);
        ArgumentException.ThrowIfNullOrEmpty(queue);
        ArgumentNullException.ThrowIfNull(routingKey);
        Exchange = exchange;
        Queue = queue;
        RoutingKey = routingKey;
        Arguments = arguments is null || arguments.Count == 0 ? s_noArguments : new Dictionary<string, object?>(arguments, StringComparer.Ordinal);
    }

    /// <summary>Gets the exchange name.</summary>
    public string Exchange { get; }

    /// <summary>Gets the queue name.</summary>
    public string Queue { get; }

    /// <summary>Gets the binding key.</summary>
    public string RoutingKey { get; }

    /// <summary>Gets the binding arguments (empty when none were given).</summary>
    public IReadOnlyDictionary<string, object?> Arguments { get; }

    /// <summary>Two bindings are equal when exchange, queue, key and arguments are all equal, as RabbitMQ's unbind requires.</summary>
    /// <param name="other">The other binding.</param>
    /// <returns><see langword="true"/> when they are equal.</returns>
    public bool Equals(Binding? other)
    {
        if (other is null)
        {
            return false;
        }

        if (ReferenceEquals(this, other))
        {
            return true;
        }

        if (!string.Equals(Exchange, other.Exchange, StringComparison.Ordinal)
            || !string.Equals(Queue, other.Queue, StringComparison.Ordinal)
            || !string.Equals(RoutingKey, other.RoutingKey, StringComparison.Ordinal)
            || Arguments.Count != other.Arguments.Count)
        {
            return false;
        }

        foreach (var pair in Arguments)
        {
            if (!other.Arguments.TryGetValue(pair.Key, out var value) || !Equals(pair.Value, value))
            {
                return false;
            }
        }

        return true;
    }

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as Binding);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(
        StringComparer.Ordinal.GetHashCode(Exchange),
        StringComparer.Ordinal.GetHashCode(Queue),
        StringComparer.Ordinal.GetHashCode(RoutingKey),
        Arguments.Count);

    /// <inheritdoc/>
    public override string ToString() => $"{Exchange} -> {Queue} ('{RoutingKey}')";
}
