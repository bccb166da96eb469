using System.Diagnostics.Metrics;

namespace Bus;

/// <summary>
/// The bus's instruments, on one <see cref="Meter"/> named <see cref="BusDiagnostics.MeterName"/> per bus: created
/// through the container's <see cref="IMeterFactory"/> when it has one (a host always does), else owned here.
/// </summary>
/// <remarks>
/// Every recording method first asks its instrument whether anyone listens, so without a listener a message costs a
/// field read per instrument; with one, tags are passed as up to three key-value pairs, which allocates nothing.
/// Tags are bounded: queue, exchange, message type, reason, mode; never a routing key or an id.
/// </remarks>
internal sealed class BusMetrics : IDisposable
{
#if NET9_0_OR_GREATER
    // The conventions' advice is seconds; an in-process delivery takes microseconds, so the buckets start far lower.
    private static readonly double[] s_durationBuckets =
        [0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
#endif

    private readonly bool _ownsMeter;

    public BusMetrics(IMeterFactory? factory)
    {
        var version = typeof(BusMetrics).Assembly.GetName().Version?.ToString(3);
        _ownsMeter = factory is null;
        Meter = factory?.Create(new MeterOptions(BusDiagnostics.MeterName) { Version = version }) ?? new Meter(BusDiagnostics.MeterName, version);
        Sent = Meter.CreateCounter<long>("messaging.client.sent.messages", "{message}", "Messages published or sent (one per publish, however many queues it reached).");
        Consumed = Meter.CreateCounter<long>("messaging.client.consumed.messages", "{message}", "Messages delivered to consumers (failed deliveries carry error.type).");
        ProcessDuration = CreateDuration(Meter, "messaging.process.duration", "How long consuming a message (or a batch) took, filters and settling included.");
        OperationDuration = CreateDuration(Meter, "messaging.client.operation.duration", "How long a publish or send took, waiting for room included.");
        Retried = Meter.CreateCounter<long>("bus.messages.retried", "{message}", "Retries decided by retry policies.");
        DeadLettered = Meter.CreateCounter<long>("bus.messages.dead_lettered", "{message}", "Messages that ended in the dead-letter store, by reason.");
        Expired = Meter.CreateCounter<long>("bus.messages.expired", "{message}", "Messages whose time to live ran out before delivery.");
        Dropped = Meter.CreateCounter<long>("bus.messages.dropped", "{message}", "Messages a full queue dropped, by full mode.");
        Unroutable = Meter.CreateCounter<long>("bus.messages.unroutable", "{message}", "Published messages no queue was bound for.");
    }

    public Meter Meter { get; }

    public Counter<long> Sent { get; }

    public Counter<long> Consumed { get; }

    public Histogram<double> ProcessDuration { get; }

    public Histogram<double> OperationDuration { get; }

    public Counter<long> Retried { get; }

    public Counter<long> DeadLettered { get; }

    public Counter<long> Expired { get; }

    public Counter<long> Dropped { get; }

    public Counter<long> Unroutable { get; }

    /// <summary>Whether a publish is measured at all.</summary>
    public bool ObservesPublish => Sent.Enabled || OperationDuration.Enabled;

    /// <summary>Whether a delivery is measured at all.</summary>
    public bool ObservesConsume => Consumed.Enabled || ProcessDuration.Enabled;

    /// <summary>Adds the gauges, which read the bus only when a listener collects.</summary>
    public void AddGauges(MessageBus bus)
    {
        Meter.CreateObservableGauge("bus.queue.depth", () => PerQueue(bus, static q => q.Depth), "{message}", "Messages waiting in each queue.");
        Meter.CreateObservableGauge("bus.queue.capacity", () => PerQueue(bus, static q => q.Options.Capacity), "{message}", "Each queue's capacity.");
        Meter.CreateObservableGauge("bus.queue.in_flight", () => PerQueue(bus, static q => q.Ledger.InFlight(q.Depth)), "{message}", "Messages taken by consumers and not yet settled, in each queue.");
        Meter.CreateObservableGauge("bus.queue.waiting_retries", () => PerQueue(bus, static q => q.Ledger.WaitingForRetry), "{message}", "Messages waiting for a delayed retry, in each queue.");
        Meter.CreateObservableGauge("bus.scheduled.messages", () => (long)bus.Delayed.PublishCount, "{message}", "Scheduled publishes waiting for their time.");
        Meter.CreateObservableGauge("bus.requests.pending", () => (long)bus.Requests.Count, "{request}", "Requests waiting for a response.");
        Meter.CreateObservableGauge("bus.dead_letters", () => (long)bus.DeadLetters.Store.Count, "{message}", "Dead letters in the store.");
    }

    public void RecordPublish(string operation, string destination, Type messageType, double seconds, Exception? failure)
    {
        var error = failure?.GetType().FullName;
        if (Sent.Enabled)
        {
            if (error is null)
            {
                Sent.Add(1, Tag(TelemetryTags.OperationName, operation), Tag(TelemetryTags.Destination, destination), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)));
            }
            else
            {
                Sent.Add(1, new System.Diagnostics.TagList
                {
                    Tag(TelemetryTags.OperationName, operation), Tag(TelemetryTags.Destination, destination),
                    Tag(TelemetryTags.MessageType, MessageTypeName(messageType)), Tag(TelemetryTags.ErrorType, error),
                });
            }
        }

        if (OperationDuration.Enabled)
        {
            var tags = new System.Diagnostics.TagList
            {
                Tag(TelemetryTags.System, BusDiagnostics.MessagingSystem), Tag(TelemetryTags.OperationName, operation),
                Tag(TelemetryTags.Destination, destination), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)),
            };
            if (error is not null)
            {
                tags.Add(TelemetryTags.ErrorType, error);
            }

            OperationDuration.Record(seconds, tags);
        }
    }

    public void RecordProcess(string queue, Type messageType, int count, double seconds, Exception? failure)
    {
        var error = failure?.GetType().FullName;
        if (Consumed.Enabled)
        {
            if (error is null)
            {
                Consumed.Add(count, Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.ConsumerGroup, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)));
            }
            else
            {
                Consumed.Add(count, new System.Diagnostics.TagList
                {
                    Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.ConsumerGroup, queue),
                    Tag(TelemetryTags.MessageType, MessageTypeName(messageType)), Tag(TelemetryTags.ErrorType, error),
                });
            }
        }

        if (ProcessDuration.Enabled)
        {
            var tags = new System.Diagnostics.TagList
            {
                Tag(TelemetryTags.System, BusDiagnostics.MessagingSystem), Tag(TelemetryTags.OperationName, TelemetryTags.Process),
                Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)),
            };
            if (error is not null)
            {
                tags.Add(TelemetryTags.ErrorType, error);
            }

            ProcessDuration.Record(seconds, tags);
        }
    }

    public void RecordRetried(string queue, Type messageType)
    {
        if (Retried.Enabled)
        {
            Retried.Add(1, Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)));
        }
    }

    public void RecordDeadLettered(string queue, Type messageType, DeadLetterReason reason)
    {
        if (DeadLettered.Enabled)
        {
            DeadLettered.Add(1, Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)), Tag(TelemetryTags.Reason, ReasonName(reason)));
        }

        if (reason == DeadLetterReason.Expired && Expired.Enabled)
        {
            Expired.Add(1, Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)));
        }
    }

    public void RecordDropped(string queue, Type messageType, QueueFullMode mode)
    {
        if (Dropped.Enabled)
        {
            Dropped.Add(1, Tag(TelemetryTags.Destination, queue), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)), Tag(TelemetryTags.FullMode, FullModeName(mode)));
        }
    }

    public void RecordUnroutable(string exchange, Type messageType)
    {
        if (Unroutable.Enabled)
        {
            Unroutable.Add(1, Tag(TelemetryTags.Exchange, exchange), Tag(TelemetryTags.MessageType, MessageTypeName(messageType)));
        }
    }

    /// <summary>A duration histogram in seconds; on .NET 9 and later with bucket advice (.NET 8 has no advice API).</summary>
    private static Histogram<double> CreateDuration(Meter meter, string name, string description) =>
#if NET9_0_OR_GREATER
        meter.CreateHistogram(name, "s", description, tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = s_durationBuckets });
#else
        meter.CreateHistogram<double>(name, "s", description);
#endif

    public void Dispose()
    {
        if (_ownsMeter)
        {
            Meter.Dispose();
        }
    }

    /// <summary>The type's full name: the runtime caches it, so reading it allocates nothing after the first time.</summary>
    internal static string MessageTypeName(Type messageType) => messageType.FullName ?? messageType.Name;

    internal static string ReasonName(DeadLetterReason reason) => Names<DeadLetterReason>.Of(reason);

    private static string FullModeName(QueueFullMode mode) => Names<QueueFullMode>.Of(mode);

    private static KeyValuePair<string, object?> Tag(string key, object? value) => new(key, value);

    private static IEnumerable<Measurement<long>> PerQueue(MessageBus bus, Func<BusQueue, long> read)
    {
        var queues = bus.TopologyCore.QueueList;
        var measurements = new Measurement<long>[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            measurements[i] = new Measurement<long>(read(queues[i]), Tag(TelemetryTags.Destination, queues[i].Name));
        }

        return measurements;
    }

    /// <summary>An enum's names, looked up without the boxing <see cref="Enum.ToString()"/> costs.</summary>
    private static class Names<TEnum>
        where TEnum : struct, Enum
    {
        private static readonly Dictionary<TEnum, string> s_names = Enum.GetValues<TEnum>().ToDictionary(v => v, v => v.ToString());

        public static string Of(TEnum value) => s_names.TryGetValue(value, out var name) ? name : value.ToString();
    }
}
