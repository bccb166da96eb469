namespace Bus;

/// <summary>How the bus settles a leased delivery with its transport.</summary>
internal enum DeliveryOutcome
{
    /// <summary>Done with: consumed, skipped as a duplicate, or dead-lettered by the bus. The transport forgets it (an ack).</summary>
    Acknowledged,

    /// <summary>Not processed (the bus stopped, or its queue was deleted): a durable transport keeps it for the next reader.</summary>
    Requeued,
}
