namespace Bus;

/// <summary>
/// Sends dead letters back to a queue as first deliveries. A dead letter is removed from the store before it is
/// delivered, so two concurrent replays cannot both deliver it, and is put back if the delivery does not happen.
/// </summary>
internal sealed class DeadLetterReplay(MessageBus bus, BusTopology topology)
{
    public async Task<bool> ReplayAsync(Guid deadLetterId, string? queue, CancellationToken cancellationToken)
    {
        if (bus.State != BusState.Running)
        {
            throw new BusNotRunningException("Cannot replay a dead letter: the bus is not running.");
        }

        var store = bus.DeadLetters.Store;
        if (bus.Broker is { } broker && store is ITransactionalDeadLetterStore transactional)
        {
            return await transactional.ReplayAsync(
                deadLetterId,
                deadLetter => PublishReplayAsync(broker, deadLetter, queue ?? deadLetter.Queue, cancellationToken),
                cancellationToken).ConfigureAwait(false);
        }

        var deadLetter = await store.GetAsync(deadLetterId, cancellationToken).ConfigureAwait(false);
        if (deadLetter is null)
        {
            return false;
        }

        var targetName = queue ?? deadLetter.Queue;
        var target = bus.Broker is null ? topology.GetQueueRoute(targetName)[0] : null;
        if (!await store.RemoveAsync(deadLetterId, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }

        var envelope = FirstDelivery(deadLetter);
        try
        {
            if (target is null)
            {
                await PublishReplayAsync(bus.Broker!, deadLetter, targetName, cancellationToken).ConfigureAwait(false);
                return true;
            }

            var status = target.TryEnqueue(envelope, origin: null);
            if (status == EnqueueStatus.Full)
            {
                status = await target.EnqueueAsync(envelope, cancellationToken).ConfigureAwait(false);
            }

            if (status != EnqueueStatus.Accepted)
            {
                throw new QueueFullException(target.Name, envelope.MessageType, $"Queue '{target.Name}' did not accept the replayed message ({status}); it stays in the dead-letter store.");
            }
        }
        catch
        {
            await store.AddAsync(deadLetter, CancellationToken.None).ConfigureAwait(false);
            throw;
        }

        Log.Replayed(bus.Logger, deadLetterId, envelope.MessageId, target.Name);
        return true;
    }

    /// <summary>Sends a dead letter back to a queue through the broker, as a first delivery; completes on the confirm.</summary>
    private async Task PublishReplayAsync(IBrokerTransport broker, DeadLetter deadLetter, string queue, CancellationToken cancellationToken)
    {
        var envelope = FirstDelivery(deadLetter);
        await broker.PublishAsync(envelope, queue, BrokerPublishFlags.Mandatory, cancellationToken).ConfigureAwait(false);
        Log.Replayed(bus.Logger, deadLetter.Id, envelope.MessageId, queue);
    }

    /// <summary>A dead letter as a first delivery again: its delivery count and first failure are reset.</summary>
    private static Envelope FirstDelivery(DeadLetter deadLetter) =>
        deadLetter.Envelope.WithDeliveryCount(1).WithHeaders(MessageHeaders.With(deadLetter.Envelope.Headers, RetryHeaders.FirstFailedAt, null));

    public async Task<int> ReplayAsync(DeadLetterQuery query, string? queue, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        var replayed = 0;
        foreach (var deadLetter in await bus.DeadLetters.Store.QueryAsync(query, cancellationToken).ConfigureAwait(false))
        {
            if (await ReplayAsync(deadLetter.Id, queue, cancellationToken).ConfigureAwait(false))
            {
                replayed++;
            }
        }

        return replayed;
    }
}
