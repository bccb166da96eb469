namespace Bus;

/// <summary>Messages per second through a queue, averaged over <see cref="Window"/>.</summary>
/// <param name="Published">Messages the queue accepted, per second.</param>
/// <param name="Consumed">Messages consumed successfully, per second.</param>
/// <param name="Failed">Failed deliveries (the consumer threw, rejected, or ran out of time), per second.</param>
/// <param name="Window">
/// The time the rates are averaged over: up to the last minute, measured between reads of the monitor; on the first
/// read, the time since the bus started. Zero when there is nothing to measure over yet.
/// </param>
public readonly record struct MessageRates(double Published, double Consumed, double Failed, TimeSpan Window);
