namespace Bus;

/// <summary>
/// Reads the bus for <see cref="IBusMonitor"/>. Rates come from the counters it saw at earlier reads, kept per queue
/// (<see cref="RateWindow"/>); its own lock guards only those, so a slow reader never holds up the bus.
/// </summary>
internal sealed class BusMonitor(MessageBus bus) : IBusMonitor
{
    private readonly Lock _lock = new();
    private Dictionary<BusQueue, RateWindow> _windows = [];

    public BusSnapshot GetSnapshot()
    {
        var time = bus.Time;
        var now = time.GetTimestamp();
        var takenAt = bus.Clock.UtcNow();
        var uptime = bus.Uptime;
        var queues = bus.TopologyCore.QueueList;
        var snapshots = new QueueSnapshot[queues.Length];
        var windows = new Dictionary<BusQueue, RateWindow>(queues.Length);
        lock (_lock)
        {
            for (var i = 0; i < queues.Length; i++)
            {
                var queue = queues[i];
                var statistics = queue.GetStatistics();
                var window = _windows.GetValueOrDefault(queue) ?? new RateWindow();
                windows[queue] = window;
                var oldest = queue.OldestTimestampTicks;
                snapshots[i] = new QueueSnapshot(statistics)
                {
                    FullMode = queue.Options.FullMode,
                    Consumers = queue.Options.Concurrency,
                    ConsumersBusy = queue.BusySlots,
                    ReaderFaults = queue.ReaderFaults,
                    OldestMessageAge = oldest is { } ticks ? Max(TimeSpan.Zero, takenAt - new DateTimeOffset(ticks, TimeSpan.Zero)) : null,
                    Rates = window.Measure(time, now, new RateSample(statistics.Enqueued, statistics.Consumed, statistics.Faulted), uptime),
                };
            }

            // Queues deleted since the last read are forgotten with their windows.
            _windows = windows;
        }

        var exchanges = new List<ExchangeSnapshot>();
        foreach (var exchange in bus.TopologyCore.ExchangeObjects)
        {
            exchanges.Add(new ExchangeSnapshot(exchange.Name, exchange.Type, exchange.KindName, exchange.GetBindings()));
        }

        var store = bus.DeadLetters.Store;
        return new BusSnapshot(snapshots, exchanges)
        {
            TakenAt = takenAt,
            State = bus.State,
            StartedAt = bus.StartedAt,
            Uptime = uptime,
            DeadLetters = store.Count,
            DeadLettersEvicted = store.Evicted,
            Unroutable = bus.UnroutableCount,
            PendingRequests = bus.Requests.Count,
            Scheduled = bus.Delayed.PublishCount,
        };
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
