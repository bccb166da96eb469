using System.Globalization;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Bus.Testing;

/// <summary>
/// A bus under test: the in-memory transport, a <see cref="FakeTimeProvider"/>, and a record of everything that happens
/// to messages. <see cref="WaitUntilIdleAsync"/> knows when the bus is done, so a test never waits on the clock.
/// </summary>
/// <remarks>
/// <para>
/// Register it with <c>services.AddMessageBusTestHarness()</c> after <c>AddMessageBus</c>, or build a whole test bus
/// with <see cref="StartAsync(Action{IMessageBusBuilder}, Action{IServiceCollection}?, Action{BusTestHarnessOptions}?)"/>.
/// </para>
/// <para>
/// The bus is idle when every queue is empty, no consumer is busy, and nothing is due at the fake clock's current time:
/// delayed retries, scheduled messages and batch windows that are not due do not count. Moving the clock
/// (<see cref="AdvanceAsync"/>) runs what becomes due, then waits until the bus is idle again.
/// </para>
/// </remarks>
public sealed class BusTestHarness : IBusObserver, IAsyncDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<BusEvent> _events = new();
    private readonly IServiceProvider _services;
    private readonly BusTestHarnessOptions _options;
    private ServiceProvider? _ownedProvider;
    private long _forgotten;
    private int _disposed;

    /// <summary>Creates a harness over the services of a bus; use <c>AddMessageBusTestHarness</c> rather than this.</summary>
    /// <param name="services">The services, with the bus and <see cref="FakeTimeProvider"/> registered.</param>
    /// <param name="options">The harness options.</param>
    public BusTestHarness(IServiceProvider services, IOptions<BusTestHarnessOptions> options)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        _services = services;
        _options = options.Value;
    }

    /// <summary>Gets the services of the bus under test.</summary>
    public IServiceProvider Services => _services;

    /// <summary>Gets the bus.</summary>
    public IMessageBus Bus => _services.GetRequiredService<IMessageBus>();

    /// <summary>Gets the publisher, which is the bus.</summary>
    public IPublisher Publisher => Bus;

    /// <summary>Gets the bus's clock; move it with <see cref="AdvanceAsync"/>.</summary>
    public FakeTimeProvider Time => _services.GetRequiredService<FakeTimeProvider>();

    /// <summary>Gets the dead-letter store.</summary>
    public IDeadLetterStore DeadLetterStore => _services.GetRequiredService<IDeadLetterStore>();

    /// <summary>
    /// Gets every event recorded, oldest first. A message's publish is recorded once every queue accepted it, so its
    /// consumer's events, on another thread, may come first.
    /// </summary>
    public IReadOnlyList<BusEvent> Events
    {
        get
        {
            lock (_lock)
            {
                return [.. _events];
            }
        }
    }

    /// <summary>Gets how many of the oldest events were forgotten past <see cref="BusTestHarnessOptions.MaxEvents"/>.</summary>
    public long ForgottenEvents => Interlocked.Read(ref _forgotten);

    /// <summary>Builds a service collection with the bus and the harness, and starts the bus.</summary>
    /// <param name="configure">Adds consumers, exchanges, queues and bindings.</param>
    /// <param name="services">Registers the services the consumers need (and fakes of them).</param>
    /// <param name="options">Sets the harness options.</param>
    /// <returns>The started harness; disposing it stops the bus and disposes the services.</returns>
    public static async Task<BusTestHarness> StartAsync(
        Action<IMessageBusBuilder> configure,
        Action<IServiceCollection>? services = null,
        Action<BusTestHarnessOptions>? options = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        collection.AddMessageBus(configure);
        collection.AddMessageBusTestHarness(options);
        var provider = collection.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
        var harness = provider.GetRequiredService<BusTestHarness>();
        harness._ownedProvider = provider;
        try
        {
            await harness.StartAsync().ConfigureAwait(false);
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return harness;
    }

    /// <summary>Starts the bus.</summary>
    /// <param name="cancellationToken">Cancels the start.</param>
    /// <returns>A task that completes when the bus runs.</returns>
    public Task StartAsync(CancellationToken cancellationToken = default) => Bus.StartAsync(cancellationToken);

    /// <summary>
    /// Waits until the bus is idle: every queue empty, no consumer busy, nothing due at the fake clock's current time.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the bus is idle.</returns>
    /// <exception cref="TimeoutException">
    /// Not idle within <see cref="BusTestHarnessOptions.Timeout"/>; the message lists what was still pending.
    /// </exception>
    public async Task WaitUntilIdleAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            if (_services.GetService<MessageBus>()?.Broker is { } broker)
            {
                await WaitUntilBrokerIdleAsync(broker, cancellationToken).WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false);
                return;
            }

            await Bus.WaitForIdleAsync(cancellationToken).WaitAsync(_options.Timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException exception)
        {
            throw new TimeoutException(DescribePending(), exception);
        }
    }

    /// <summary>
    /// Moves the fake clock forward, which runs the retries, scheduled messages, batch windows and time limits that come
    /// due, then waits until the bus is idle.
    /// </summary>
    /// <param name="by">How far to move the clock.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task that completes when the bus is idle again.</returns>
    public Task AdvanceAsync(TimeSpan by, CancellationToken cancellationToken = default)
    {
        if (_options.KeepTransport)
        {
            throw new InvalidOperationException(
                "The harness keeps the bus's own transport (BusTestHarnessOptions.KeepTransport), and with it the system clock: retries and timeouts come due by themselves. Wait with WaitUntilIdleAsync instead.");
        }

        Time.Advance(by);
        return WaitUntilIdleAsync(cancellationToken);
    }

    /// <summary>Publishes a message and waits until the bus is idle.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="message">The message.</param>
    /// <param name="cancellationToken">Cancels the publish and the wait.</param>
    /// <returns>A task that completes when the bus is idle.</returns>
    public async Task PublishAndWaitAsync<TMessage>(TMessage message, CancellationToken cancellationToken = default)
    {
        await Publisher.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        await WaitUntilIdleAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Gets the events of one kind for messages of one type, oldest first.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="kind">What happened.</param>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The events.</returns>
    public IReadOnlyList<BusEvent> EventsOf<TMessage>(BusEventKind kind, Func<TMessage, bool>? where = null)
    {
        var found = new List<BusEvent>();
        foreach (var recorded in Events)
        {
            if (recorded.Kind == kind && recorded.Envelope.Message is TMessage message && (where is null || where(message)))
            {
                found.Add(recorded);
            }
        }

        return found;
    }

    /// <summary>
    /// Gets the messages of a type published to an exchange, whether or not any queue was bound for them (sends to a
    /// queue are in <see cref="Sent{TMessage}"/>): an assertion that nothing was published fails when something was,
    /// consumer or not. <see cref="NotRouted{TMessage}"/> lists those that reached no queue.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The messages, oldest first.</returns>
    public IReadOnlyList<TMessage> Published<TMessage>(Func<TMessage, bool>? where = null)
    {
        var found = new List<TMessage>();
        foreach (var recorded in Events)
        {
            if (recorded.Kind is (BusEventKind.Published or BusEventKind.NoRoute)
                && recorded.Envelope.Message is TMessage message && (where is null || where(message)))
            {
                found.Add(message);
            }
        }

        return found;
    }

    /// <summary>
    /// Gets the messages of a type published to an exchange that routed them to no queue (<see cref="BusEventKind.NoRoute"/>):
    /// most often, no consumer is added for the type.
    /// </summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The messages, oldest first.</returns>
    public IReadOnlyList<TMessage> NotRouted<TMessage>(Func<TMessage, bool>? where = null) => MessagesOf(BusEventKind.NoRoute, where);

    /// <summary>Gets the messages of a type sent to a queue.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The messages, oldest first.</returns>
    public IReadOnlyList<TMessage> Sent<TMessage>(Func<TMessage, bool>? where = null) => MessagesOf(BusEventKind.Sent, where);

    /// <summary>Gets the messages of a type consumed successfully (once per consuming queue).</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The messages, oldest first.</returns>
    public IReadOnlyList<TMessage> Consumed<TMessage>(Func<TMessage, bool>? where = null) => MessagesOf(BusEventKind.Consumed, where);

    /// <summary>Gets the failed deliveries of messages of a type, each with its exception.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The events, oldest first.</returns>
    public IReadOnlyList<BusEvent> Faulted<TMessage>(Func<TMessage, bool>? where = null) => EventsOf(BusEventKind.Faulted, where);

    /// <summary>Gets the retries of messages of a type, each with its delay.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The events, oldest first.</returns>
    public IReadOnlyList<BusEvent> Retried<TMessage>(Func<TMessage, bool>? where = null) => EventsOf(BusEventKind.Retried, where);

    /// <summary>Gets the dead letters of messages of a type, each with its reason, while the harness has been recording.</summary>
    /// <typeparam name="TMessage">The message type.</typeparam>
    /// <param name="where">Selects messages; null for all.</param>
    /// <returns>The dead letters, oldest first.</returns>
    public IReadOnlyList<DeadLetter> DeadLettered<TMessage>(Func<TMessage, bool>? where = null)
    {
        var found = new List<DeadLetter>();
        foreach (var recorded in EventsOf(BusEventKind.DeadLettered, where))
        {
            found.Add(recorded.DeadLetter!);
        }

        return found;
    }

    /// <summary>Forgets every recorded event, for a test that checks one step at a time.</summary>
    public void ClearEvents()
    {
        lock (_lock)
        {
            _events.Clear();
        }
    }

    /// <summary>Stops the bus, moving the fake clock past the stop timeout so that a stuck consumer cannot hold the test.</summary>
    /// <returns>A task that completes when the bus has stopped (and the services built by <see cref="StartAsync(Action{IMessageBusBuilder}, Action{IServiceCollection}?, Action{BusTestHarnessOptions}?)"/> are disposed).</returns>
    public async ValueTask DisposeAsync()
    {
        // Once only: the container that holds the harness disposes it too, after the test did.
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        IMessageBus bus;
        try
        {
            bus = Bus;
        }
        catch (ObjectDisposedException)
        {
            // Disposed by its container, which has stopped and disposed the bus already.
            return;
        }

        var stopping = bus.StopAsync();
        if (!stopping.IsCompleted)
        {
            Time.Advance(_services.GetRequiredService<IOptions<BusOptions>>().Value.StopTimeout);
        }

        await stopping.WaitAsync(_options.Timeout).ConfigureAwait(false);
        if (_ownedProvider is { } provider)
        {
            await provider.DisposeAsync().ConfigureAwait(false);
        }
    }

    void IBusObserver.OnPublished(in Envelope envelope) =>
        Record(new BusEvent(envelope.Exchange.Length == 0 ? BusEventKind.Sent : BusEventKind.Published, envelope));

    void IBusObserver.OnUnroutable(in Envelope envelope) =>
        Record(new BusEvent(BusEventKind.NoRoute, envelope));

    void IBusObserver.OnConsumed(in Envelope envelope, string queue, Type consumerType) =>
        Record(new BusEvent(BusEventKind.Consumed, envelope, queue, consumerType));

    void IBusObserver.OnFaulted(in Envelope envelope, string queue, Exception exception) =>
        Record(new BusEvent(BusEventKind.Faulted, envelope, queue, Exception: exception));

    void IBusObserver.OnRetrying(in Envelope envelope, string queue, TimeSpan delay) =>
        Record(new BusEvent(BusEventKind.Retried, envelope, queue, Delay: delay));

    void IBusObserver.OnDeadLettered(DeadLetter deadLetter) =>
        Record(new BusEvent(BusEventKind.DeadLettered, deadLetter.Envelope, deadLetter.Queue, DeadLetter: deadLetter));

    /// <summary>
    /// Idle over a broker: the bus is idle here, the broker holds nothing ready for its queues (nor in their retries'
    /// wait queues), and both stay so across a short pause with no message arriving meanwhile, since a delivery on its
    /// way from the broker is counted by neither. The broker is asked, so this polls the system clock.
    /// </summary>
    private async Task WaitUntilBrokerIdleAsync(IBrokerTransport broker, CancellationToken cancellationToken)
    {
        var quietFor = 0;
        long seen = -1;
        while (quietFor < 2)
        {
            await Bus.WaitForIdleAsync(cancellationToken).ConfigureAwait(false);
            long waiting = 0;
            long arrived = 0;
            foreach (var queue in Bus.GetStatistics().Queues)
            {
                waiting += await broker.CountWaitingAsync(queue.Name, cancellationToken).ConfigureAwait(false);
                arrived += queue.Enqueued;
            }

            quietFor = waiting == 0 && arrived == seen ? quietFor + 1 : 0;
            seen = arrived;
            await Task.Delay(BrokerPollInterval, TimeProvider.System, cancellationToken).ConfigureAwait(false);
        }
    }

    private static readonly TimeSpan BrokerPollInterval = TimeSpan.FromMilliseconds(25);

    private IReadOnlyList<TMessage> MessagesOf<TMessage>(BusEventKind kind, Func<TMessage, bool>? where)
    {
        var found = new List<TMessage>();
        foreach (var recorded in EventsOf(kind, where))
        {
            found.Add((TMessage)recorded.Envelope.Message);
        }

        return found;
    }

    private void Record(BusEvent recorded)
    {
        lock (_lock)
        {
            if (_events.Count >= _options.MaxEvents)
            {
                _events.Dequeue();
                Interlocked.Increment(ref _forgotten);
            }

            _events.Enqueue(recorded);
        }
    }

    private string DescribePending()
    {
        var description = new StringBuilder().Append(CultureInfo.InvariantCulture, $"The bus was not idle within {_options.Timeout}.");
        foreach (var queue in Bus.GetStatistics().Queues)
        {
            if (queue.Pending != 0)
            {
                description.Append(CultureInfo.InvariantCulture, $" Queue '{queue.Name}': {queue.Pending} pending ({queue.Depth} waiting in the queue, {queue.WaitingForRetry} waiting for a retry).");
            }
        }

        return description.ToString();
    }
}
