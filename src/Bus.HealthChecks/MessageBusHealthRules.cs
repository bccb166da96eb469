using System.Globalization;

namespace Bus.HealthChecks;

/// <summary>
/// The rules of the check, applied to one snapshot: failed when the bus is not running or a queue's reader died;
/// degraded when a queue stayed saturated for the period, holds a message older than the limit, or the dead-letter store
/// is over its limit.
/// </summary>
internal static class MessageBusHealthRules
{
    public static HealthFindings Evaluate(BusSnapshot snapshot, IReadOnlyDictionary<string, TimeSpan> saturated, MessageBusHealthCheckOptions options)
    {
        var findings = new HealthFindings();
        findings.Add(MessageBusHealthCheckData.State, snapshot.State.ToString());
        findings.Add(MessageBusHealthCheckData.Uptime, snapshot.Uptime);
        findings.Add(MessageBusHealthCheckData.DeadLetters, snapshot.DeadLetters);
        if (snapshot.State != BusState.Running)
        {
            findings.Fail(snapshot.State switch
            {
                BusState.Created => "The bus has not started.",
                BusState.Stopping => "The bus is stopping.",
                _ => "The bus has stopped.",
            });
        }

        foreach (var queue in snapshot.Queues.OrderBy(q => q.Name, StringComparer.Ordinal))
        {
            CheckQueue(queue, saturated, options, findings);
        }

        if (options.MaxDeadLetters is { } limit && snapshot.DeadLetters > limit)
        {
            findings.Degrade(Text($"The dead-letter store holds {snapshot.DeadLetters} messages, more than the limit of {limit}."));
        }

        return findings;
    }

    private static void CheckQueue(QueueSnapshot queue, IReadOnlyDictionary<string, TimeSpan> saturated, MessageBusHealthCheckOptions options, HealthFindings findings)
    {
        if (queue.ReaderFaults > 0)
        {
            findings.AddQueue(queue);
            findings.Add(MessageBusHealthCheckData.QueueReaderFaults(queue.Name), queue.ReaderFaults);
            findings.Fail(Text($"Queue '{queue.Name}' lost {queue.ReaderFaults} reader loop(s) to a failure inside the bus and may have stopped taking messages."));
        }

        if (saturated.TryGetValue(queue.Name, out var saturatedFor) && saturatedFor >= options.SaturationPeriod)
        {
            findings.AddQueue(queue);
            findings.Add(MessageBusHealthCheckData.QueueSaturatedFor(queue.Name), saturatedFor);
            findings.Degrade(Text(
                $"Queue '{queue.Name}' has been at least {options.SaturationThreshold * 100:0.##}% full for {Durations.Format(saturatedFor)} ({queue.Depth} of {queue.Capacity} messages)."));
        }

        if (options.MaxMessageAge is { } maxAge && queue.OldestMessageAge is { } age && age > maxAge)
        {
            findings.AddQueue(queue);
            findings.Add(MessageBusHealthCheckData.QueueOldestMessageAge(queue.Name), age);
            findings.Degrade(Text(
                $"Queue '{queue.Name}' has a message waiting for {Durations.Format(age)}, longer than the limit of {Durations.Format(maxAge)}."));
        }
    }

    private static string Text(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
