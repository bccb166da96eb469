using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>
/// The live topology. Lookups on the publish path read copy-on-write snapshots without locking; changes take
/// <see cref="_lock"/> and publish new snapshots with volatile writes.
/// </summary>
internal sealed class BusTopology : IBusTopology
{
    private readonly Lock _lock = new();
    private readonly MessageBus _bus;
    private readonly IMessageTransport _transport;
    private readonly IServiceProvider _services;
    private readonly int _routingCacheSize;
    private readonly Dictionary<Type, string> _messageExchanges;
    private volatile Dictionary<string, Exchange> _exchanges = new(StringComparer.Ordinal);
    private volatile Dictionary<string, BusQueue> _queues = new(StringComparer.Ordinal);
    private volatile BusQueue[] _queueList = [];
    private volatile Exchange?[] _byMessageType = [];

    public BusTopology(MessageBus bus, BusOptions options, IMessageTransport transport, IServiceProvider services)
    {
        _bus = bus;
        _transport = transport;
        _services = services;
        _routingCacheSize = options.RoutingCacheSize;

        var plan = TopologyPlan.Create(options);
        if (plan.Errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(BusOptions), plan.Errors);
        }

        _messageExchanges = plan.MessageExchanges;
        foreach (var (name, strategy) in plan.Exchanges)
        {
            DeclareExchange(name, strategy);
        }

        foreach (var (name, queueOptions) in plan.Queues)
        {
            DeclareQueue(name, queueOptions);
        }

        foreach (var group in plan.Bindings.GroupBy(b => b.Exchange, StringComparer.Ordinal))
        {
            _exchanges[group.Key].Bind(group.Select(b => new BoundQueue(b, _queues[b.Queue])));
        }

        foreach (var consumer in plan.Consumers)
        {
            var queue = _queues[consumer.Queue];
            foreach (var messageType in consumer.MessageTypes)
            {
                queue.AddRegistration(ConsumerRegistration.Create(consumer.ConsumerType, messageType, consumer.Lifetime, consumer.RetryPolicy ?? queue.RetryPolicy, consumer.Batch, services));
            }
        }
    }

    public IReadOnlyCollection<string> Exchanges => _exchanges.Keys;

    public IReadOnlyCollection<string> Queues => _queues.Keys;

    public BusQueue[] QueueList => _queueList;

    public int ExchangeCount => _exchanges.Count;

    public Exchange GetExchange(string name) =>
        _exchanges.TryGetValue(name, out var exchange) ? exchange : ThrowHelper.ThrowUnknownExchange(name);

    public BusQueue[] GetQueueRoute(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue.Route : ThrowHelper.ThrowUnknownQueue(name);

    public Exchange GetMessageExchange<TMessage>()
    {
        var id = MessageTypeId<TMessage>.Value;
        var byType = _byMessageType;
        return (uint)id < (uint)byType.Length && byType[id] is { } exchange ? exchange : AddMessageExchange(typeof(TMessage), id);
    }

    public string GetExchangeName<TMessage>() => GetMessageExchange<TMessage>().Name;

    public IReadOnlyList<Binding> GetBindings(string exchange)
    {
        ArgumentNullException.ThrowIfNull(exchange);
        return GetExchange(exchange).GetBindings();
    }

    public void DeclareExchange(string name, ExchangeType type) => DeclareExchange(name, RoutingStrategies.For(type));

    public void DeclareExchange(string name, IRoutingStrategy strategy)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(strategy);
        lock (_lock)
        {
            DeclareExchangeLocked(name, strategy);
        }
    }

    public void DeclareQueue(string name, QueueOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        options ??= new QueueOptions();
        var errors = new List<string>();
        options.Validate(name, errors);
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join(" ", errors), nameof(options));
        }

        lock (_lock)
        {
            if (_queues.TryGetValue(name, out var existing))
            {
                if (!existing.Options.SameAs(options))
                {
                    throw new InvalidOperationException($"Queue '{name}' is already declared with other options.");
                }

                return;
            }

            var queue = new BusQueue(_bus, name, options, _transport);
            _queues = new Dictionary<string, BusQueue>(_queues, StringComparer.Ordinal) { [name] = queue };
            _queueList = [.. _queueList, queue];
        }
    }

    public void AddConsumer<TConsumer>(string queue, ConsumerLifetime lifetime = ConsumerLifetime.Scoped, IRetryPolicy? retryPolicy = null)
        where TConsumer : class
    {
        ArgumentException.ThrowIfNullOrEmpty(queue);
        if (ConsumerTypes.Validate(typeof(TConsumer)) is { } invalid)
        {
            throw new ArgumentException(invalid, nameof(TConsumer));
        }

        if (!_queues.TryGetValue(queue, out var target))
        {
            throw new ArgumentException($"No queue named '{queue}' is declared.", nameof(queue));
        }

        // Check every message type first, so a conflict adds nothing.
        var messageTypes = ConsumerTypes.GetMessageTypes(typeof(TConsumer));
        foreach (var messageType in messageTypes)
        {
            if (target.FindRegistration(messageType) is { } existing)
            {
                throw new InvalidOperationException(
                    $"Queue '{queue}' already has a consumer for {messageType}: {existing.ConsumerType}.");
            }
        }

        foreach (var messageType in messageTypes)
        {
            target.AddRegistration(ConsumerRegistration.Create(typeof(TConsumer), messageType, lifetime, retryPolicy ?? target.RetryPolicy, null, _services));
        }
    }

    public bool Bind(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var exchange = GetExchange(binding.Exchange);
        if (!_queues.TryGetValue(binding.Queue, out var queue))
        {
            throw new ArgumentException($"No queue named '{binding.Queue}' is declared.", nameof(binding));
        }

        if (exchange.Strategy.Validate(binding) is { } problem)
        {
            throw new ArgumentException($"Binding {binding}: {problem}.", nameof(binding));
        }

        return exchange.Bind([new BoundQueue(binding, queue)]) > 0;
    }

    public bool Unbind(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        return GetExchange(binding.Exchange).Unbind(binding);
    }

    public async Task<DrainReport> DeleteQueueAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        BusQueue? queue;
        lock (_lock)
        {
            if (!_queues.TryGetValue(name, out queue))
            {
                throw new ArgumentException($"No queue named '{name}' is declared.", nameof(name));
            }

            var queues = new Dictionary<string, BusQueue>(_queues, StringComparer.Ordinal);
            queues.Remove(name);
            _queues = queues;
        }

        foreach (var exchange in _exchanges.Values)
        {
            exchange.UnbindQueue(queue);
        }

        queue.Delete();
        var drained = true;
        try
        {
            await queue.WhenWorkersStopped().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            drained = false;
            queue.Abort();
        }

        var unprocessed = new List<UnprocessedMessage>();
        foreach (var envelope in _bus.Delayed.TakeRetries(queue))
        {
            unprocessed.Add(new UnprocessedMessage(name, envelope, wasInFlight: false));
        }

        unprocessed.AddRange(await queue.CollectUnprocessedAsync().ConfigureAwait(false));
        foreach (var message in unprocessed)
        {
            await queue.DeadLetterUnprocessedAsync(message, DeadLetterReason.QueueDeleted, "its queue was deleted before it was processed").ConfigureAwait(false);
        }

        // Counted until now: its consumers may have been publishing elsewhere while it drained.
        lock (_lock)
        {
            _queueList = Array.FindAll(_queueList, q => q != queue);
        }

        Log.QueueDeleted(_bus.Logger, name, unprocessed.Count);
        _bus.Idle.Signal();
        return new DrainReport(drained && unprocessed.Count == 0, unprocessed);
    }

    public void StartWorkers()
    {
        foreach (var queue in _queueList)
        {
            queue.StartWorkers();
        }
    }

    /// <summary>
    /// True when nothing is pending anywhere (messages waiting for a delayed retry or a scheduled publish count only when
    /// asked to). Reads every monotonic counter twice: if nothing moved between the two reads, there was a moment at
    /// which everything was idle at once.
    /// </summary>
    public bool IsIdle(bool includeWaiting)
    {
        var queues = _queueList;
        var scheduled = _bus.Delayed.PublishCounters;
        if (includeWaiting && scheduled.Scheduled != scheduled.Ended)
        {
            return false;
        }

        var first = new QueueCounters[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            var counters = queues[i].ReadCounters();
            var pending = counters.Enqueued - counters.Finished - (includeWaiting ? 0 : counters.WaitingForTime);
            if (pending != 0)
            {
                return false;
            }

            first[i] = counters;
        }

        for (var i = 0; i < queues.Length; i++)
        {
            if (queues[i].ReadCounters() != first[i])
            {
                return false;
            }
        }

        return _bus.Delayed.PublishCounters == scheduled;
    }

    private Exchange AddMessageExchange(Type messageType, int id)
    {
        lock (_lock)
        {
            var name = _messageExchanges.TryGetValue(messageType, out var mapped) ? mapped : BusNames.ExchangeFor(messageType);
            var exchange = _exchanges.TryGetValue(name, out var existing) ? existing : DeclareExchangeLocked(name, FanoutRoutingStrategy.Instance);
            var byType = _byMessageType;
            if (byType.Length <= id)
            {
                Array.Resize(ref byType, Math.Max(id + 1, byType.Length * 2));
            }
            else
            {
                byType = (Exchange?[])byType.Clone();
            }

            byType[id] = exchange;
            _byMessageType = byType;
            return exchange;
        }
    }

    private Exchange DeclareExchangeLocked(string name, IRoutingStrategy strategy)
    {
        if (_exchanges.TryGetValue(name, out var existing))
        {
            return existing.Strategy == strategy
                ? existing
                : throw new InvalidOperationException(
                    $"Exchange '{name}' is already declared as {RoutingStrategies.Describe(existing.Strategy)}; it cannot be redeclared as {RoutingStrategies.Describe(strategy)}.");
        }

        var exchange = new Exchange(name, strategy, RoutingStrategies.TypeOf(strategy), _routingCacheSize);
        _exchanges = new Dictionary<string, Exchange>(_exchanges, StringComparer.Ordinal) { [name] = exchange };
        return exchange;
    }
}
