namespace Bus;

/// <summary>A broker's consumer of one queue, started by <see cref="IBrokerTransport.Consume"/>.</summary>
internal interface IBrokerConsumer
{
    /// <summary>Settles a delivery it handed over: an ack, or a requeue that gives it back to the broker.</summary>
    /// <param name="lease">The delivery's lease, as handed to <see cref="IDeliveryTarget.Deliver"/>.</param>
    /// <param name="outcome">Acknowledged or requeued.</param>
    /// <returns>A task that completes when the broker was told.</returns>
    ValueTask SettleAsync(long lease, DeliveryOutcome outcome);

    /// <summary>Stops taking deliveries (the broker keeps the rest); deliveries already handed over can still be settled.</summary>
    /// <returns>A task that completes when the broker has cancelled the consumer.</returns>
    Task StopAsync();

    /// <summary>Stops and closes the consumer's channel: every delivery not yet settled goes back to the broker.</summary>
    /// <returns>A task that completes when the channel is closed.</returns>
    Task CloseAsync();
}
