using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// Warns the first time a message type finds nothing bound on an exchange, once per (exchange, message type): a
/// publish nobody receives is most often a consumer never added, and a warning per publish would flood the log. The
/// pairs warned about are remembered up to <see cref="Capacity"/>; beyond it new pairs are logged at Debug only
/// (event 10, as every unroutable publish is), and that the limit was reached is said once (event 43).
/// </summary>
internal sealed class UnroutableWarnings(ILogger logger)
{
    /// <summary>How many (exchange, message type) pairs are remembered: a few dozen bytes each.</summary>
    public const int Capacity = 1_000;

    private readonly ConcurrentDictionary<(string Exchange, Type MessageType), byte> _warned = new();
    private int _count;
    private int _saidFull;

    /// <summary>Warns unless this pair was warned about before; cheap when it was (a lock-free lookup).</summary>
    public void Warn(Exchange exchange, Type messageType, string routingKey)
    {
        var key = (exchange.Name, messageType);
        if (_warned.ContainsKey(key) || !logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }

        // A slot is reserved before the pair is added, so the set never grows past the capacity under contention.
        var count = Interlocked.Increment(ref _count);
        if (count > Capacity)
        {
            Interlocked.Decrement(ref _count);
            return;
        }

        if (!_warned.TryAdd(key, 0))
        {
            // Another publisher warned about it first.
            Interlocked.Decrement(ref _count);
            return;
        }

        // An exchange with bindings did have consumers; the key matched none of them.
        if (exchange.BindingCount == 0)
        {
            Log.NoConsumerForMessage(logger, messageType, exchange.Name, messageType.Name);
        }
        else
        {
            Log.NoBindingForMessage(logger, messageType, exchange.Name, routingKey);
        }

        if (count == Capacity && Interlocked.Exchange(ref _saidFull, 1) == 0)
        {
            Log.UnroutableWarningsFull(logger, Capacity);
        }
    }
}
