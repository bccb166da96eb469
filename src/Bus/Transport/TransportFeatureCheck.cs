namespace Bus;

/// <summary>
/// Refuses a queue whose options the transport cannot honour, naming the queue and the option: at start for the
/// configured queues (with every other configuration problem), and at run time for each declared queue.
/// </summary>
internal static class TransportFeatureCheck
{
    public static void Check(IMessageTransport transport, string queue, QueueOptions options, List<string> errors)
    {
        var features = transport.Features;
        var name = transport.GetType().Name;
        if ((features & TransportFeatures.BoundedQueues) == 0)
        {
            errors.Add($"Queue '{queue}': the transport ({name}) does not bound its queues, and the bus cannot bound storage it does not own; Capacity and FullMode need a transport that does.");
        }
        else if ((features & FullModeFeature(options.FullMode)) == 0)
        {
            errors.Add($"Queue '{queue}': FullMode is {options.FullMode}, which the transport ({name}) cannot do; it supports {SupportedFullModes(features)}.");
        }

        if (options.MaxPriority > 0 && (features & TransportFeatures.Priority) == 0)
        {
            errors.Add($"Queue '{queue}': MaxPriority is {options.MaxPriority}, and the transport ({name}) does not order by priority.");
        }
    }

    private static TransportFeatures FullModeFeature(QueueFullMode mode) => mode switch
    {
        QueueFullMode.Reject => TransportFeatures.FullReject,
        QueueFullMode.DropOldest => TransportFeatures.FullDropOldest,
        QueueFullMode.DropNewest => TransportFeatures.FullDropNewest,
        _ => TransportFeatures.FullWait,
    };

    private static string SupportedFullModes(TransportFeatures features)
    {
        var supported = new List<string>();
        foreach (var mode in Enum.GetValues<QueueFullMode>())
        {
            if ((features & FullModeFeature(mode)) != 0)
            {
                supported.Add(mode.ToString());
            }
        }

        return string.Join(", ", supported);
    }
}
