namespace Bus;

/// <summary>
/// The configured topology checked and resolved: default exchanges and consumer queues filled in, every binding
/// validated by its exchange's strategy, and every problem collected, so that a bad configuration fails at start with
/// one exception that lists them all.
/// </summary>
internal sealed class TopologyPlan
{
    private readonly HashSet<string> _declaredQueues = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Type> _ownQueues = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Queue, Type Message), Type> _consumerOf = [];
    private readonly HashSet<Binding> _bindings = [];

    // Which consumer types read each queue, to keep a batch consumer's queue to itself.
    private readonly Dictionary<string, HashSet<Type>> _readers = new(StringComparer.Ordinal);

    private readonly BusNamingConvention _naming;
    private readonly Dictionary<string, Type> _exchangeNamesGiven = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Type> _queueNamesGiven = new(StringComparer.Ordinal);

    private TopologyPlan(BusNamingConvention? naming)
    {
        _naming = naming ?? BusNamingConvention.FullName;
    }

    public Dictionary<string, IRoutingStrategy> Exchanges { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, QueueOptions> Queues { get; } = new(StringComparer.Ordinal);

    public List<Binding> Bindings { get; } = [];

    public List<PlannedConsumer> Consumers { get; } = [];

    public Dictionary<Type, string> MessageExchanges { get; } = [];

    public List<string> Errors { get; } = [];

    public static TopologyPlan Create(BusOptions options)
    {
        var plan = new TopologyPlan(options.NamingConvention);
        plan.CheckOptions(options);
        var definition = options.Topology;
        foreach (var exchange in definition.Exchanges)
        {
            plan.DeclareExchange(exchange);
        }

        foreach (var queue in definition.Queues)
        {
            plan.DeclareQueue(queue);
        }

        foreach (var mapping in definition.MessageExchanges)
        {
            plan.MapMessage(mapping);
        }

        // A consumer found by a scan gives way to the same type added explicitly (before or after the scan) or replaced,
        // and to an earlier scan that found it.
        var explicitlyAdded = new HashSet<Type>();
        foreach (var consumer in definition.Consumers)
        {
            if (!consumer.Scanned)
            {
                explicitlyAdded.Add(consumer.ConsumerType);
            }
        }

        var scanned = new HashSet<Type>();
        foreach (var consumer in definition.Consumers)
        {
            if (consumer.Scanned
                && (explicitlyAdded.Contains(consumer.ConsumerType) || definition.ReplacedConsumers.Contains(consumer.ConsumerType) || !scanned.Add(consumer.ConsumerType)))
            {
                continue;
            }

            plan.AddConsumer(consumer);
        }

        foreach (var binding in definition.Bindings)
        {
            plan.AddBinding(binding);
        }

        return plan;
    }

    private void CheckOptions(BusOptions options)
    {
        if (options.StopTimeout < TimeSpan.Zero && options.StopTimeout != Timeout.InfiniteTimeSpan)
        {
            Errors.Add($"BusOptions.StopTimeout is {options.StopTimeout}; it must be zero or more, or Timeout.InfiniteTimeSpan.");
        }

        if (options.DeadLetterCapacity < 1)
        {
            Errors.Add($"BusOptions.DeadLetterCapacity is {options.DeadLetterCapacity}; it must be at least 1.");
        }

        if (options.MaxMessageSize < 1)
        {
            Errors.Add($"BusOptions.MaxMessageSize is {options.MaxMessageSize}; it must be at least 1.");
        }

        if (options.ScheduledCapacity < 1)
        {
            Errors.Add($"BusOptions.ScheduledCapacity is {options.ScheduledCapacity}; it must be at least 1.");
        }

        if (options.MaxPendingRequests < 1)
        {
            Errors.Add($"BusOptions.MaxPendingRequests is {options.MaxPendingRequests}; it must be at least 1.");
        }

        if (options.DefaultRequestTimeout <= TimeSpan.Zero && options.DefaultRequestTimeout != Timeout.InfiniteTimeSpan)
        {
            Errors.Add($"BusOptions.DefaultRequestTimeout is {options.DefaultRequestTimeout}; it must be more than zero, or Timeout.InfiniteTimeSpan.");
        }

        if (options.RetryPolicy is null)
        {
            Errors.Add("BusOptions.RetryPolicy is null; use RetryPolicy.None for no retries.");
        }

        if (options.RoutingCacheSize < 0)
        {
            Errors.Add($"BusOptions.RoutingCacheSize is {options.RoutingCacheSize}; it must be zero or more.");
        }

        if (options.NamingConvention is null)
        {
            Errors.Add("BusOptions.NamingConvention is null; use BusNamingConvention.FullName for the default names.");
        }
    }

    private void DeclareExchange(ExchangeDefinition exchange)
    {
        if (!Exchanges.TryAdd(exchange.Name, exchange.Strategy) && Exchanges[exchange.Name] != exchange.Strategy)
        {
            Errors.Add($"Exchange '{exchange.Name}' is declared twice: as {RoutingStrategies.Describe(Exchanges[exchange.Name])} and as {RoutingStrategies.Describe(exchange.Strategy)}.");
        }
    }

    private void DeclareQueue(QueueDefinition queue)
    {
        if (Queues.TryGetValue(queue.Name, out var existing))
        {
            if (!existing.SameAs(queue.Options))
            {
                Errors.Add($"Queue '{queue.Name}' is declared twice with different options.");
            }

            return;
        }

        queue.Options.Validate(queue.Name, Errors);
        Queues.Add(queue.Name, queue.Options);
        _declaredQueues.Add(queue.Name);
    }

    private void MapMessage(MessageExchangeDefinition mapping)
    {
        if (!Exchanges.ContainsKey(mapping.Exchange))
        {
            Errors.Add($"Message type {mapping.MessageType} is mapped to exchange '{mapping.Exchange}', which is not declared.");
        }
        else if (!MessageExchanges.TryAdd(mapping.MessageType, mapping.Exchange) && MessageExchanges[mapping.MessageType] != mapping.Exchange)
        {
            Errors.Add($"Message type {mapping.MessageType} is mapped to two exchanges: '{MessageExchanges[mapping.MessageType]}' and '{mapping.Exchange}'.");
        }
    }

    private void AddConsumer(ConsumerDefinition consumer)
    {
        var consumerType = consumer.ConsumerType;
        if (ConsumerTypes.Validate(consumerType) is { } invalid)
        {
            Errors.Add(invalid);
            return;
        }

        var options = consumer.Options;
        var queue = options.Queue ?? DefaultQueueName(consumer.Replaces ?? consumerType);
        if (queue.Length == 0)
        {
            if (options.Queue is not null)
            {
                Errors.Add($"Consumer {consumerType}: ConsumerOptions.Queue is empty; leave it null for the consumer's own queue.");
            }

            return;
        }

        var ownQueue = !_declaredQueues.Contains(queue);
        if (ownQueue)
        {
            if (_ownQueues.TryGetValue(queue, out var owner))
            {
                if (owner != consumerType)
                {
                    Errors.Add($"Queue '{queue}' is the own queue of both {owner} and {consumerType}; declare it with AddQueue for them to share it.");
                }

                // The same consumer added twice: the first registration stands.
                return;
            }

            options.QueueOptions.Validate(queue, Errors);
            Queues.Add(queue, options.QueueOptions);
            _ownQueues.Add(queue, consumerType);
        }

        var isBatch = ConsumerTypes.IsBatchConsumer(consumerType);
        if (isBatch)
        {
            options.Batch.Validate(consumerType, Errors);
        }

        if (!_readers.TryGetValue(queue, out var readers))
        {
            _readers.Add(queue, readers = []);
        }

        // Reported once, when the second reader arrives.
        if (readers.Add(consumerType) && readers.Count == 2 && readers.Any(ConsumerTypes.IsBatchConsumer))
        {
            Errors.Add($"Queue '{queue}' is read by a batch consumer and by another consumer ({string.Join(", ", readers)}); a batch consumer needs a queue of its own.");
        }

        var messageTypes = ConsumerTypes.GetMessageTypes(consumerType);
        foreach (var binding in options.Bindings)
        {
            if (Array.IndexOf(messageTypes, binding.MessageType) < 0)
            {
                Errors.Add($"Consumer {consumerType} binds {binding.MessageType}, which it does not consume.");
            }
        }

        var added = new List<Type>();
        foreach (var messageType in messageTypes)
        {
            if (_consumerOf.TryGetValue((queue, messageType), out var other))
            {
                if (other != consumerType)
                {
                    Errors.Add($"Queue '{queue}' has two consumers for {messageType}: {other} and {consumerType}. A queue delivers each message type to one consumer type; give each its own queue.");
                }

                continue;
            }

            _consumerOf.Add((queue, messageType), consumerType);
            added.Add(messageType);
            BindConsumerQueue(consumerType, messageType, queue, ownQueue, options.Bindings);
        }

        if (added.Count > 0)
        {
            Consumers.Add(new PlannedConsumer(consumerType, [.. added], queue, options.Lifetime, options.RetryPolicy, isBatch ? options.Batch.Clone() : null, [.. options.ConsumeFilters]));
        }
    }

    private void BindConsumerQueue(Type consumerType, Type messageType, string queue, bool ownQueue, List<MessageBinding> explicitBindings)
    {
        var keys = explicitBindings.FindAll(b => b.MessageType == messageType);
        if (keys.Count == 0 && !ownQueue)
        {
            // A declared queue's bindings are the application's to declare.
            return;
        }

        var exchange = ExchangeFor(messageType);
        if (!Exchanges.TryGetValue(exchange, out var strategy))
        {
            return;
        }

        if (keys.Count == 0)
        {
            if (RoutingStrategies.DefaultBindingKey(strategy) is not { } defaultKey)
            {
                Errors.Add($"Consumer {consumerType} consumes {messageType} through the {RoutingStrategies.Describe(strategy)} exchange '{exchange}'; give it a binding key with Bind<{messageType.Name}>(key).");
                return;
            }

            keys.Add(new MessageBinding(messageType, defaultKey, null));
        }

        foreach (var key in keys)
        {
            Bind(new Binding(exchange, queue, key.RoutingKey, key.Arguments), strategy);
        }
    }

    private void AddBinding(BindingDefinition definition)
    {
        var exchange = definition.Exchange ?? ExchangeFor(definition.MessageType!);
        if (exchange.Length == 0)
        {
            // The naming convention gave no name, which is reported already.
            return;
        }

        if (!Exchanges.TryGetValue(exchange, out var strategy))
        {
            Errors.Add($"A binding to queue '{definition.Queue}' names exchange '{exchange}', which is not declared.");
            return;
        }

        if (!Queues.ContainsKey(definition.Queue))
        {
            Errors.Add($"A binding from exchange '{exchange}' names queue '{definition.Queue}', which is not declared.");
            return;
        }

        Bind(new Binding(exchange, definition.Queue, definition.RoutingKey, definition.Arguments), strategy);
    }

    private void Bind(Binding binding, IRoutingStrategy strategy)
    {
        if (strategy.Validate(binding) is { } problem)
        {
            Errors.Add($"Binding {binding}: {problem}.");
        }
        else if (_bindings.Add(binding))
        {
            Bindings.Add(binding);
        }
    }

    /// <summary>The exchange a message type is published to: its mapped one, or its own fanout exchange.</summary>
    private string ExchangeFor(Type messageType)
    {
        if (MessageExchanges.TryGetValue(messageType, out var mapped))
        {
            return mapped;
        }

        var name = _naming.GetExchangeName(messageType);
        if (string.IsNullOrEmpty(name))
        {
            // Reported once per type; callers find no exchange by the empty name and bind nothing.
            var problem = $"The naming convention ({_naming}) gave no exchange name for {messageType}.";
            if (!Errors.Contains(problem))
            {
                Errors.Add(problem);
            }

            return string.Empty;
        }

        NotTakenByAnother(_exchangeNamesGiven, name, messageType, "exchange", "MapMessage<T>(exchange) one of them");
        Exchanges.TryAdd(name, FanoutRoutingStrategy.Instance);
        return name;
    }

    /// <summary>
    /// Reports two types the naming convention gives one name (a kebab-case convention makes HTTPRequest and
    /// HttpRequest both http-request): they would share an exchange or a queue and receive each other's messages.
    /// </summary>
    private void NotTakenByAnother(Dictionary<string, Type> given, string name, Type type, string what, string fix)
    {
        if (!given.TryAdd(name, type) && given[name] != type)
        {
            var problem = $"The naming convention ({_naming}) names the {what} of both {given[name]} and {type} '{name}'; {fix}.";
            if (!Errors.Contains(problem))
            {
                Errors.Add(problem);
            }
        }
    }

    /// <summary>The own queue of a consumer whose options name none, as the naming convention names it.</summary>
    private string DefaultQueueName(Type consumerType)
    {
        var name = _naming.GetQueueName(consumerType);
        if (string.IsNullOrEmpty(name))
        {
            Errors.Add($"The naming convention ({_naming}) gave no queue name for consumer {consumerType}.");
            return string.Empty;
        }

        NotTakenByAnother(_queueNamesGiven, name, consumerType, "queue", "give one of them its queue with ConsumerOptions.Queue");
        return name;
    }
}

/// <summary>A consumer type attached to a queue for the message types it consumes there.</summary>
internal sealed record PlannedConsumer(Type ConsumerType, Type[] MessageTypes, string Queue, ConsumerLifetime Lifetime, IRetryPolicy? RetryPolicy, BatchOptions? Batch, FilterRegistration[] Filters);
