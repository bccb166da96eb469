using System.Diagnostics.CodeAnalysis;
using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Bus;

/// <summary>
/// The live topology. Lookups on the publish path read concurrent dictionaries and arrays without locking; changes take
/// <see cref="_lock"/>. Declaring a queue, adding a consumer or binding costs the same with ten queues as with ten
/// thousand: nothing is copied whole per change, and an exchange rebuilds its routing table once, at the next publish
/// after a run of binding changes.
/// </summary>
internal sealed class BusTopology : IBusTopology
{
    private readonly Lock _lock = new();
    private readonly MessageBus _bus;
    private readonly IMessageTransport _transport;
    private readonly IServiceProvider _services;
    private readonly int _routingCacheSize;
    private readonly Dictionary<Type, string> _messageExchanges;
    private readonly BusNamingConvention _naming;

    // The exchange names the naming convention gave, by type (written under _lock; bounded by the message types used).
    private readonly Dictionary<string, Type> _conventionNames = new(StringComparer.Ordinal);
    private readonly FilterRegistration[] _consumeFilters;
    private readonly ConcurrentDictionary<string, Exchange> _exchanges = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, BusQueue> _queues = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<Type, Exchange> _byRuntimeType = new();
    private readonly List<BusQueue> _queueOrder = [];
    private volatile BusQueue[]? _queueList;
    private volatile Exchange?[] _byMessageType = [];
    private long _version;

    public BusTopology(MessageBus bus, BusOptions options, IMessageTransport transport, IServiceProvider services)
    {
        _bus = bus;
        _transport = transport;
        _services = services;
        _routingCacheSize = options.RoutingCacheSize;
        _naming = options.NamingConvention ?? BusNamingConvention.FullName;
        _consumeFilters = [.. options.ConsumeFilters];

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
                queue.AddRegistration(ConsumerRegistration.Create(consumer.ConsumerType, messageType, consumer.Lifetime, consumer.RetryPolicy ?? queue.RetryPolicy, consumer.Batch, [.. options.ConsumeFilters, .. queue.Options.ConsumeFilters, .. consumer.Filters], bus.FilterInstances));
            }
        }
    }

    public IReadOnlyCollection<string> Exchanges => [.. _exchanges.Keys];

    public IReadOnlyCollection<string> Queues => [.. _queues.Keys];

    /// <summary>Every queue, in declaration order; a deleted queue stays until its messages are collected.</summary>
    public BusQueue[] QueueList => _queueList ?? RebuildQueueList();

    public int ExchangeCount => _exchanges.Count;

    /// <summary>The exchanges, enumerated without a lock (for the monitor).</summary>
    public IEnumerable<Exchange> ExchangeObjects => _exchanges.Values;

    /// <summary>The exchange of that name, or null.</summary>
    public Exchange? TryGetExchange(string name) => _exchanges.GetValueOrDefault(name);

    public Exchange GetExchange(string name) =>
        _exchanges.TryGetValue(name, out var exchange) ? exchange : ThrowHelper.ThrowUnknownExchange(name);

    public BusQueue[] GetQueueRoute(string name) =>
        _queues.TryGetValue(name, out var queue) ? queue.Route : ThrowHelper.ThrowUnknownQueue(name);

    public Exchange GetMessageExchange<TMessage>() => GetMessageExchange(MessageTypeInfo<TMessage>.Id, typeof(TMessage));

    /// <summary>The exchange of a message type by its <see cref="MessageTypeInfo{TMessage}.Id"/>: one array read on the publish path.</summary>
    public Exchange GetMessageExchange(int id, Type messageType)
    {
        var byType = _byMessageType;
        return (uint)id < (uint)byType.Length && byType[id] is { } exchange ? exchange : AddMessageExchange(messageType, id);
    }

    /// <summary>The exchange of a message type known only at run time (a message published as <see cref="object"/>).</summary>
    public Exchange GetMessageExchange(Type messageType) =>
        _byRuntimeType.TryGetValue(messageType, out var exchange) ? exchange : _byRuntimeType.GetOrAdd(messageType, ExchangeFor(messageType));

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
        CheckTransportFeatures(name, options, errors);
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
            if (_bus.BrokerTopologyLive)
            {
                _bus.Broker?.DeclareQueue(name, queue.Options);
            }

            _queues[name] = queue;
            _queueOrder.Add(queue);
            QueuesChanged();
        }
    }

    public void AddConsumer<[DynamicallyAccessedMembers(Trimming.Consumer)] TConsumer>(string queue, ConsumerLifetime lifetime = ConsumerLifetime.Scoped, IRetryPolicy? retryPolicy = null)
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
            target.AddRegistration(ConsumerRegistration.Create(typeof(TConsumer), messageType, lifetime, retryPolicy ?? target.RetryPolicy, null, [.. _consumeFilters, .. target.Options.ConsumeFilters], _bus.FilterInstances));
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

        if (_bus.BrokerTopologyLive)
        {
            _bus.Broker?.Bind(binding);
        }

        return exchange.Bind([new BoundQueue(binding, queue)]) > 0;
    }

    public bool Unbind(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var exchange = GetExchange(binding.Exchange);
        if (_bus.BrokerTopologyLive)
        {
            _bus.Broker?.Unbind(binding);
        }

        return exchange.Unbind(binding);
    }

    public async Task<DrainReport> DeleteQueueAsync(string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(name);
        BusQueue? queue;
        lock (_lock)
        {
            if (!_queues.TryRemove(name, out queue))
            {
                throw new ArgumentException($"No queue named '{name}' is declared.", nameof(name));
            }
        }

        foreach (var exchange in _exchanges.Values)
        {
            if (_bus.Broker is { } broker)
            {
                // Off the broker's exchanges first, so nothing new arrives while what is left is taken.
                foreach (var binding in exchange.GetBindings())
                {
                    if (binding.Queue == name)
                    {
                        broker.Unbind(binding);
                    }
                }
            }

            exchange.UnbindQueue(queue);
        }

        await queue.StopConsumingAsync().ConfigureAwait(false);
        queue.Delete();
        var drained = true;
        try
        {
            await queue.WhenQuietAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            drained = false;
            queue.Abort();
        }

        // Retries first, the queue after: a retry coming due now returns to the queue before its report is taken.
        var unprocessed = new List<UnprocessedMessage>();
        _bus.Delayed.ReportRetries(queue, unprocessed);
        unprocessed.AddRange(await queue.CollectAsync(takeOver: !drained).ConfigureAwait(false));
        queue.Ledger.AssertBalanced("was deleted");
        foreach (var message in unprocessed)
        {
            await _bus.DeadLetters.StoreReportedCopyAsync(message, DeadLetterReason.QueueDeleted, QueueDeletedDescription, queue.Ledger).ConfigureAwait(false);
        }

        if (_bus.Broker is { } owner)
        {
            await queue.CloseConsumerAsync().ConfigureAwait(false);

            // What the broker still holds for the queue is reported and dead-lettered the same way, each before the broker lets it go.
            await owner.DeleteQueueAsync(
                name,
                async envelope =>
                {
                    var message = new UnprocessedMessage(name, envelope, wasInFlight: false);
                    unprocessed.Add(message);
                    await _bus.DeadLetters.StoreReportedCopyAsync(message, DeadLetterReason.QueueDeleted, QueueDeletedDescription, queue.Ledger).ConfigureAwait(false);
                },
                CancellationToken.None).ConfigureAwait(false);
        }

        // Counted until now: its consumers may have been publishing elsewhere while it drained.
        lock (_lock)
        {
            _queueOrder.Remove(queue);
            QueuesChanged();
        }

        Log.QueueDeleted(_bus.Logger, name, unprocessed.Count);
        _bus.Idle.Signal();
        return new DrainReport(drained && unprocessed.Count == 0, unprocessed);
    }

    private const string QueueDeletedDescription = "its queue was deleted before it was processed";

    public void StartReaders()
    {
        foreach (var queue in QueueList)
        {
            queue.StartReaders();
        }
    }

    /// <summary>
    /// True when nothing is active anywhere (messages waiting for a delayed retry, a batch window or a scheduled publish
    /// count only when asked to). Reads every ledger twice: the counters only grow, so if nothing moved between the two
    /// reads, there was a moment at which every ledger was idle at once.
    /// </summary>
    public bool IsIdle(bool includeWaiting)
    {
        var version = Volatile.Read(ref _version);
        var queues = QueueList;
        var first = new LedgerSnapshot[queues.Length + 1];
        for (var i = 0; i <= queues.Length; i++)
        {
            var snapshot = LedgerAt(queues, i).Read();
            if ((includeWaiting ? snapshot.Pending : snapshot.Active) != 0)
            {
                return false;
            }

            first[i] = snapshot;
        }

        for (var i = 0; i <= queues.Length; i++)
        {
            if (LedgerAt(queues, i).Read() != first[i])
            {
                return false;
            }
        }

        return Volatile.Read(ref _version) == version;
    }

    /// <summary>Refuses, at declaration, an option the transport cannot honour natively and the bus cannot emulate.</summary>
    internal void CheckTransportFeatures(string queue, QueueOptions options, List<string> errors) =>
        TransportFeatureCheck.Check(_transport, queue, options, errors);

    private QueueLedger LedgerAt(BusQueue[] queues, int index) => index < queues.Length ? queues[index].Ledger : _bus.Delayed.Ledger;

    private BusQueue[] RebuildQueueList()
    {
        lock (_lock)
        {
            return _queueList ??= [.. _queueOrder];
        }
    }

    /// <summary>The set of queues changed: idle checks running now look again, since theirs may have missed the change.</summary>
    private void QueuesChanged()
    {
        _queueList = null;
        Interlocked.Increment(ref _version);
        if (_bus.Idle.HasWaiters)
        {
            _bus.Idle.Signal();
        }
    }

    private Exchange ExchangeFor(Type messageType)
    {
        // The naming convention is the application's code: called before the lock is taken.
        var name = _messageExchanges.TryGetValue(messageType, out var mapped) ? mapped : _naming.GetExchangeName(messageType);
        if (string.IsNullOrEmpty(name))
        {
            throw new InvalidOperationException($"The naming convention ({_naming}) gave no exchange name for {messageType}.");
        }

        lock (_lock)
        {
            // A name the convention gave another type (HTTPRequest and HttpRequest in kebab case) would make the two
            // share an exchange: refused, as the start refuses it for the types it knows.
            if (mapped is null && !_conventionNames.TryAdd(name, messageType) && _conventionNames[name] != messageType)
            {
                throw new InvalidOperationException(
                    $"The naming convention ({_naming}) names the exchange of both {_conventionNames[name]} and {messageType} '{name}'; MapMessage<T>(exchange) one of them.");
            }

            return _exchanges.TryGetValue(name, out var existing) ? existing : DeclareExchangeLocked(name, FanoutRoutingStrategy.Instance);
        }
    }

    private Exchange AddMessageExchange(Type messageType, int id)
    {
        var exchange = ExchangeFor(messageType);
        lock (_lock)
        {
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
        if (_bus.BrokerTopologyLive)
        {
            // Declared on the broker before any publish can use it; the start declares the ones made before it.
            _bus.Broker?.DeclareExchange(name, strategy);
        }

        _exchanges[name] = exchange;
        return exchange;
    }
}
