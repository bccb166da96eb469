using RabbitMQ.Client;

namespace Bus.RabbitMQ;

/// <summary>
/// The bus's topology in RabbitMQ's terms: exchanges of the four built-in types, durable queues with their options as
/// arguments, a dead-letter queue beside each, and bindings as they are. What the broker cannot honour is listed, by
/// queue and option, before anything is declared.
/// </summary>
internal static class RabbitMqTopology
{
    /// <summary>The broker's exchange type of a routing strategy, or null for a strategy of the application's own.</summary>
    public static string? ExchangeTypeOf(IRoutingStrategy strategy) => RoutingStrategies.TypeOf(strategy) switch
    {
        Bus.ExchangeType.Direct => global::RabbitMQ.Client.ExchangeType.Direct,
        Bus.ExchangeType.Fanout => global::RabbitMQ.Client.ExchangeType.Fanout,
        Bus.ExchangeType.Topic => global::RabbitMQ.Client.ExchangeType.Topic,
        Bus.ExchangeType.Headers => global::RabbitMQ.Client.ExchangeType.Headers,
        _ => null,
    };

    /// <summary>Lists what the broker cannot do of an exchange.</summary>
    public static void CheckExchange(string name, IRoutingStrategy strategy, List<string> errors)
    {
        if (ExchangeTypeOf(strategy) is null)
        {
            errors.Add($"Exchange '{name}' routes with {RoutingStrategies.Describe(strategy)}, which runs in process only; on RabbitMQ an exchange is direct, fanout, topic or headers.");
        }

        if (name.StartsWith("amq.", StringComparison.Ordinal))
        {
            errors.Add($"Exchange '{name}': names starting with 'amq.' are reserved by RabbitMQ.");
        }
    }

    /// <summary>Lists what the broker cannot do of a queue's options (the full modes are refused earlier, by the transport's features).</summary>
    public static void CheckQueue(string name, QueueOptions options, RabbitMqQueueType type, List<string> errors)
    {
        if (options.MaxPriority > 0 && type == RabbitMqQueueType.Quorum)
        {
            errors.Add($"Queue '{name}': MaxPriority is {options.MaxPriority}, and quorum queues do not order by priority (RabbitMqOptions.QueueType); use classic queues, or no priority.");
        }

        if (options.FullMode == QueueFullMode.Reject && type == RabbitMqQueueType.Quorum)
        {
            errors.Add($"Queue '{name}': FullMode is Reject, and a quorum queue at its limit drops a delayed retry that returns to it without a trace (quorum queues have no reject-publish-dlx); use classic queues, or DropOldest.");
        }

        if (name.StartsWith("amq.", StringComparison.Ordinal))
        {
            errors.Add($"Queue '{name}': names starting with 'amq.' are reserved by RabbitMQ.");
        }
    }

    /// <summary>The arguments a queue is declared with.</summary>
    public static Dictionary<string, object?> QueueArguments(string name, QueueOptions options, RabbitMqQueueType type)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            // What the broker dead-letters itself (a message that expired in the queue, one dropped from its head)
            // lands in the queue's dead-letter queue, beside the bus's own dead letters.
            ["x-dead-letter-exchange"] = string.Empty,
            ["x-dead-letter-routing-key"] = RabbitMqNames.DeadLetters(name),
        };
        if (type == RabbitMqQueueType.Quorum)
        {
            arguments["x-queue-type"] = "quorum";
        }

        switch (options.FullMode)
        {
            case QueueFullMode.Reject:
                // Publishers are refused (a nack) as with reject-publish; and a delayed retry that returns from its wait
                // queue to a full queue is dead-lettered as overflow, where plain reject-publish would drop it silently.
                arguments["x-max-length"] = options.Capacity;
                arguments["x-overflow"] = "reject-publish-dlx";
                break;
            case QueueFullMode.DropOldest:
                arguments["x-max-length"] = options.Capacity;
                arguments["x-overflow"] = "drop-head";
                break;
        }

        if (options.MaxPriority > 0)
        {
            arguments["x-max-priority"] = options.MaxPriority;
        }

        if (options.TimeToLive is { } ttl)
        {
            arguments["x-message-ttl"] = (long)Math.Ceiling(ttl.TotalMilliseconds);
        }

        if (options.IsPartitioned)
        {
            // One consumer at a time takes the queue, in order; the bus keeps each key in order from there.
            arguments["x-single-active-consumer"] = true;
        }

        return arguments;
    }

    /// <summary>The arguments of a dead-letter queue: bounded, dropping its oldest (the store's documented limit).</summary>
    public static Dictionary<string, object?> DeadLetterArguments(int capacity, RabbitMqQueueType type)
    {
        var arguments = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["x-max-length"] = capacity,
            ["x-overflow"] = "drop-head",
        };
        if (type == RabbitMqQueueType.Quorum)
        {
            arguments["x-queue-type"] = "quorum";
        }

        return arguments;
    }

    /// <summary>The arguments of a wait queue: messages expire after the rung, and go back to their queue.</summary>
    public static Dictionary<string, object?> WaitArguments(string queue, TimeSpan rung) => new(StringComparer.Ordinal)
    {
        ["x-message-ttl"] = (long)rung.TotalMilliseconds,
        ["x-dead-letter-exchange"] = string.Empty,
        ["x-dead-letter-routing-key"] = queue,
    };

    public static Task DeclareExchangeAsync(IChannel channel, string name, IRoutingStrategy strategy, CancellationToken cancellationToken) =>
        channel.ExchangeDeclareAsync(name, ExchangeTypeOf(strategy)!, durable: true, autoDelete: false, arguments: null, cancellationToken: cancellationToken);

    public static async Task DeclareQueueAsync(IChannel channel, string name, QueueOptions options, RabbitMqQueueType type, int deadLetterCapacity, CancellationToken cancellationToken)
    {
        await channel.QueueDeclareAsync(RabbitMqNames.DeadLetters(name), durable: true, exclusive: false, autoDelete: false, DeadLetterArguments(deadLetterCapacity, type), cancellationToken: cancellationToken).ConfigureAwait(false);
        await channel.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, QueueArguments(name, options, type), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    public static Task BindAsync(IChannel channel, Binding binding, CancellationToken cancellationToken) =>
        channel.QueueBindAsync(binding.Queue, binding.Exchange, binding.RoutingKey, Arguments(binding), cancellationToken: cancellationToken);

    public static Task UnbindAsync(IChannel channel, Binding binding, CancellationToken cancellationToken) =>
        channel.QueueUnbindAsync(binding.Queue, binding.Exchange, binding.RoutingKey, Arguments(binding), cancellationToken);

    private static Dictionary<string, object?>? Arguments(Binding binding)
    {
        if (binding.Arguments.Count == 0)
        {
            return null;
        }

        var arguments = new Dictionary<string, object?>(binding.Arguments.Count, StringComparer.Ordinal);
        foreach (var (key, value) in binding.Arguments)
        {
            arguments[key] = value is string or bool or int or long or double or null ? value : Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture);
        }

        return arguments;
    }
}
