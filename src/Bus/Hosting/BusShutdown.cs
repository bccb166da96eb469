namespace Bus;

/// <summary>
/// How the bus stops: drain, refuse publishes, close or abort the queues, give consumers that ignore their token a
/// grace period, take over what still runs, and report, log and dead-letter whatever was not processed.
/// </summary>
/// <remarks>
/// Every message accepted ends before the report is returned: consumed or dead-lettered while draining, or counted as
/// reported by the queue's ledger when collected here. The report is the list of the latter; nothing else is left.
/// </remarks>
internal sealed class BusShutdown(MessageBus bus, BusTopology topology)
{
    private const string StoppedDescription = "the bus stopped before it was processed";

    private readonly CancellationTokenSource _hurry = new();

    /// <summary>Ends a drain or grace period in progress at once (the bus is being disposed).</summary>
    public void Hurry() => _hurry.Cancel();

    public async Task<DrainReport> StopAsync(bool immediately, CancellationToken cancellationToken)
    {
        var options = bus.Options;
        if (immediately)
        {
            Log.DisposedWhileRunning(bus.Logger);
        }
        else if (cancellationToken.CanBeCanceled)
        {
            Log.StoppingWithinCallerLimit(bus.Logger, options.StopTimeout);
        }
        else
        {
            Log.Stopping(bus.Logger, options.StopTimeout);
        }

        var started = bus.Time.GetTimestamp();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _hurry.Token);
        if (bus.Broker is not null)
        {
            // A broker keeps delivering while there are messages: its consumers stop first, so the drain finishes what
            // was handed over and the broker keeps the rest.
            await StopConsumingAsync(limit.Token).ConfigureAwait(false);
        }

        var drained = !immediately && await DrainAsync(options.StopTimeout, limit.Token).ConfigureAwait(false);
        bus.EnterStopped();

        var unprocessed = new List<UnprocessedMessage>();
        bus.Delayed.CloseAndReport(unprocessed);
        var queues = topology.QueueList;
        foreach (var queue in queues)
        {
            if (drained)
            {
                queue.Close();
            }
            else
            {
                queue.Abort();
            }
        }

        // Readers finish what the closed queues hold; consumers that ignore their cancelled token get until twice the stop
        // timeout, counted from the start of the stop. Then the report takes over what still runs.
        var quiet = await GraceAsync(queues, started, options.StopTimeout, limit.Token).ConfigureAwait(false);
        foreach (var queue in queues)
        {
            if (!quiet)
            {
                queue.Abort();
            }

            unprocessed.AddRange(await queue.CollectAsync(takeOver: !quiet).ConfigureAwait(false));
            queue.Ledger.AssertBalanced("stopped");
        }

        await bus.Delayed.WhenForwardedAsync().ConfigureAwait(false);
        bus.Delayed.Ledger.AssertBalanced("stopped");
        var report = await ReportAsync(drained, unprocessed, queues).ConfigureAwait(false);
        if (bus.Broker is { } broker)
        {
            await CloseBrokerAsync(broker).ConfigureAwait(false);
        }

        return report;
    }

    private async Task StopConsumingAsync(CancellationToken cancellationToken)
    {
        var queues = topology.QueueList;
        var stopping = new Task[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            stopping[i] = queues[i].StopConsumingAsync();
        }

        try
        {
            await Task.WhenAll(stopping).WaitAsync(bus.Options.StopTimeout, bus.Time, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            // The queues close next: a delivery that still arrives finds its queue closed and is requeued.
        }
        catch (Exception exception)
        {
            Log.BrokerStopFailed(bus.Logger, exception);
        }
    }

    private async Task CloseBrokerAsync(IBrokerTransport broker)
    {
        try
        {
            await broker.StopAsync(CancellationToken.None).WaitAsync(BusQueue.SettleLimit, TimeProvider.System).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            Log.BrokerStopFailed(bus.Logger, exception);
        }
    }

    /// <summary>A bus stopped before it started: nothing could have been published, so nothing is left.</summary>
    public DrainReport CloseUnstarted()
    {
        foreach (var queue in topology.QueueList)
        {
            queue.Close();
        }

        return new DrainReport(drained: true, []);
    }

    private async Task<bool> DrainAsync(TimeSpan stopTimeout, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(stopTimeout, bus.Time);
        using var drain = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token, cancellationToken);
        try
        {
            await bus.Idle.WaitAsync(static topology => topology.IsIdle(includeWaiting: true), topology, drain.Token).ConfigureAwait(false);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task<bool> GraceAsync(BusQueue[] queues, long started, TimeSpan stopTimeout, CancellationToken cancellationToken)
    {
        var quiet = new Task[queues.Length];
        for (var i = 0; i < queues.Length; i++)
        {
            quiet[i] = queues[i].WhenQuietAsync();
        }

        var left = stopTimeout == Timeout.InfiniteTimeSpan
            ? Timeout.InfiniteTimeSpan
            : TimeSpan.FromTicks(Math.Max(0, (stopTimeout + stopTimeout - bus.Time.GetElapsedTime(started)).Ticks));
        try
        {
            await Task.WhenAll(quiet).WaitAsync(left, bus.Time, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception exception) when (exception is TimeoutException or OperationCanceledException)
        {
            return false;
        }
    }

    /// <summary>Reports, logs and dead-letters (reason <see cref="DeadLetterReason.BusStopped"/>) what was not processed.</summary>
    private async Task<DrainReport> ReportAsync(bool drained, List<UnprocessedMessage> unprocessed, BusQueue[] queues)
    {
        foreach (var group in unprocessed.GroupBy(m => m.Queue, StringComparer.Ordinal))
        {
            Log.UnprocessedInQueue(bus.Logger, group.Key, group.Count());
        }

        var ledgers = new Dictionary<string, QueueLedger>(StringComparer.Ordinal) { [DelayedDeliveries.ScheduledQueueName] = bus.Delayed.Ledger };
        foreach (var queue in queues)
        {
            ledgers[queue.Name] = queue.Ledger;
        }
        foreach (var message in unprocessed)
        {
            await bus.DeadLetters.StoreReportedCopyAsync(message, DeadLetterReason.BusStopped, StoppedDescription, ledgers.GetValueOrDefault(message.Queue)).ConfigureAwait(false);
        }

        if (unprocessed.Count == 0)
        {
            long consumed = 0;
            long deadLettered = 0;
            foreach (var queue in queues)
            {
                var statistics = queue.GetStatistics();
                consumed += statistics.Consumed + statistics.Duplicates;
                deadLettered += statistics.DeadLettered;
            }

            Log.StoppedSettled(bus.Logger, consumed, deadLettered);
        }
        else
        {
            Log.StoppedWithUnprocessed(bus.Logger, unprocessed.Count);
        }

        return new DrainReport(drained && unprocessed.Count == 0, unprocessed);
    }
}
