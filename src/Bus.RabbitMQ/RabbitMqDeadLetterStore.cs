using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Bus.RabbitMQ;

/// <summary>
/// The dead-letter store on the broker: each queue's dead letters wait in its dead-letter queue (<c>{queue}.dead-letters</c>),
/// the message as it was published, with its reason, description, attempts, error and times in <c>bus-dead-letter-</c>
/// headers, and its original exchange and routing key. Messages the broker dead-letters itself (expired in the queue,
/// dropped from its head) land there too, their reason read from the broker's <c>x-first-death-reason</c>.
/// </summary>
/// <remarks>
/// Reading is browsing: a query takes the messages without acknowledging them and gives them all back when done, in
/// their order; removing acknowledges the ones removed. Each dead-letter queue holds at most
/// <see cref="BusOptions.DeadLetterCapacity"/> messages and drops its oldest beyond that (<c>drop-head</c>), so a query
/// reads at most that many per queue. <see cref="Count"/> is this process's running count, made exact by each query
/// that reads every queue.
/// </remarks>
internal sealed class RabbitMqDeadLetterStore(RabbitMqTransport transport) : IDeadLetterStore, ITransactionalDeadLetterStore
{
    private const string Prefix = "bus-dead-letter-";
    private const string IdHeader = Prefix + "id";
    private const string QueueHeader = Prefix + "queue";
    private const string ReasonHeader = Prefix + "reason";
    private const string DescriptionHeader = Prefix + "description";
    private const string AttemptsHeader = Prefix + "attempts";
    private const string FirstFailedHeader = Prefix + "first-failed-at";
    private const string LastFailedHeader = Prefix + "last-failed-at";
    private const string ErrorTypeHeader = Prefix + "error-type";
    private const string ErrorMessageHeader = Prefix + "error-message";
    private const string ErrorStackHeader = Prefix + "error-stack";

    private long _count;

    // One browse at a time in this process: a browse holds what it read until it ends, so a second one would see only
    // the rest. (Browses from other processes at the same moment can still see part of a queue.)
    private readonly SemaphoreSlim _browsing = new(1, 1);

    public int Count => (int)Math.Min(Volatile.Read(ref _count), int.MaxValue);

    public async ValueTask AddAsync(DeadLetter deadLetter, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        var envelope = deadLetter.Envelope;
        var wire = transport.WireOf(envelope);
        var properties = AmqpMessage.Properties(wire, ConsumeContext.RemoteReplyTo(envelope));

        // The dead letter keeps the message's own time to live only as a header: it must not expire in the store.
        properties.Expiration = null;
        var headers = properties.Headers!;
        headers[IdHeader] = deadLetter.Id.ToString();
        headers[QueueHeader] = deadLetter.Queue;
        headers[ReasonHeader] = deadLetter.Reason.ToString();
        headers[DescriptionHeader] = deadLetter.Description;
        headers[AttemptsHeader] = deadLetter.Attempts;
        headers[FirstFailedHeader] = deadLetter.FirstFailedAt.UtcTicks;
        headers[LastFailedHeader] = deadLetter.LastFailedAt.UtcTicks;
        if (deadLetter.Error is { } error)
        {
            headers[ErrorTypeHeader] = error.Type;
            headers[ErrorMessageHeader] = error.Message;
            if (error.StackTrace is { } stack)
            {
                headers[ErrorStackHeader] = stack;
            }
        }

        await transport.PublishDeadLetterAsync(deadLetter.Queue, properties, wire.Body, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _count);
    }

    public async ValueTask<IReadOnlyList<DeadLetter>> QueryAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        var found = new List<DeadLetter>();
        var total = 0L;
        foreach (var queue in QueuesOf(query))
        {
            total += await ScanAsync(
                queue,
                deadLetter =>
                {
                    if (query is null || query.Matches(deadLetter))
                    {
                        found.Add(deadLetter);
                    }

                    return s_keep;
                },
                cancellationToken).ConfigureAwait(false);
        }

        if (query?.Queue is null)
        {
            Volatile.Write(ref _count, total);
        }

        found.Sort(static (a, b) => a.LastFailedAt.CompareTo(b.LastFailedAt));
        return query?.Limit is { } limit && found.Count > limit ? found.GetRange(0, limit) : found;
    }

    public async ValueTask<DeadLetter?> GetAsync(Guid id, CancellationToken cancellationToken = default)
    {
        foreach (var queue in QueuesOf(null))
        {
            DeadLetter? match = null;
            await ScanAsync(queue, deadLetter =>
            {
                if (deadLetter.Id == id)
                {
                    match = deadLetter;
                }

                return s_keep;
            }, cancellationToken).ConfigureAwait(false);
            if (match is not null)
            {
                return match;
            }
        }

        return null;
    }

    public async ValueTask<bool> RemoveAsync(Guid id, CancellationToken cancellationToken = default) =>
        await ReplayAsync(id, static _ => Task.CompletedTask, cancellationToken).ConfigureAwait(false);

    public async ValueTask<int> PurgeAsync(DeadLetterQuery? query = null, CancellationToken cancellationToken = default)
    {
        var removed = 0;
        foreach (var queue in QueuesOf(query))
        {
            await ScanAsync(queue, deadLetter =>
            {
                var match = query is null || query.Matches(deadLetter);
                if (match)
                {
                    removed++;
                }

                return match ? s_remove : s_keep;
            }, cancellationToken).ConfigureAwait(false);
        }

        Interlocked.Add(ref _count, -removed);
        return removed;
    }

    /// <summary>
    /// Replays a dead letter without a moment in which it is in neither place: it is read without an ack, republished
    /// (confirmed) by <paramref name="replay"/>, and only then acknowledged; if the replay fails, closing the browse
    /// gives it back to its dead-letter queue.
    /// </summary>
    public async Task<bool> ReplayAsync(Guid id, Func<DeadLetter, Task> replay, CancellationToken cancellationToken)
    {
        foreach (var queue in QueuesOf(null))
        {
            var replayed = false;
            await ScanAsync(
                queue,
                async deadLetter =>
                {
                    if (replayed || deadLetter.Id != id)
                    {
                        return false;
                    }

                    await replay(deadLetter).ConfigureAwait(false);
                    replayed = true;
                    return true;
                },
                cancellationToken).ConfigureAwait(false);
            if (replayed)
            {
                Interlocked.Decrement(ref _count);
                return true;
            }
        }

        return false;
    }

    private static readonly ValueTask<bool> s_keep = new(false);
    private static readonly ValueTask<bool> s_remove = new(true);

    /// <summary>The queues whose dead-letter queues to read: the query's, or every queue the bus knows.</summary>
    private List<string> QueuesOf(DeadLetterQuery? query)
    {
        if (query?.Queue is { } queue)
        {
            return [queue];
        }

        var queues = new List<string>();
        foreach (var (name, _) in transport.Context.Queues)
        {
            queues.Add(name);
        }

        foreach (var name in transport.DeadLetterQueueNames)
        {
            var owner = name[..^RabbitMqNames.DeadLetterSuffix.Length];
            if (!queues.Contains(owner))
            {
                queues.Add(owner);
            }
        }

        return queues;
    }

    /// <summary>
    /// Reads a queue's dead letters in order, without taking them, on a channel of its own; acknowledges those
    /// <paramref name="remove"/> says to, and closes the channel, which gives the others back in their order.
    /// </summary>
    private async Task<long> ScanAsync(string queue, Func<DeadLetter, ValueTask<bool>> remove, CancellationToken cancellationToken)
    {
        var name = RabbitMqNames.DeadLetters(queue);
        await _browsing.WaitAsync(cancellationToken).ConfigureAwait(false);
        IChannel channel;
        try
        {
            channel = await transport.Connections.Publish.CreateChannelAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _browsing.Release();
            throw;
        }

        long read = 0;
        try
        {
            while (read < transport.DeadLetterCapacity)
            {
                BasicGetResult? result;
                try
                {
                    result = await channel.BasicGetAsync(name, autoAck: false, cancellationToken).ConfigureAwait(false);
                }
                catch (OperationInterruptedException exception) when (exception.ShutdownReason?.ReplyCode == 404)
                {
                    // No dead-letter queue: nothing was ever dead-lettered there.
                    return read;
                }

                if (result is null)
                {
                    break;
                }

                read++;
                if (await remove(Read(queue, result)).ConfigureAwait(false))
                {
                    await channel.BasicAckAsync(result.DeliveryTag, multiple: false, cancellationToken).ConfigureAwait(false);
                }
            }

            return read;
        }
        finally
        {
            if (channel.IsOpen)
            {
                await channel.CloseAsync(CancellationToken.None).ConfigureAwait(false);
            }

            channel.Dispose();
            _browsing.Release();
        }
    }

    private DeadLetter Read(string queue, BasicGetResult result)
    {
        var properties = result.BasicProperties;
        var context = transport.Context;
        Envelope envelope;
        var at = DateTimeOffset.UnixEpoch;
        if (!AmqpMessage.TryRead(properties, result.Body, result.Exchange, result.RoutingKey, redelivered: false, context.Time, out var wire, out var unreadable))
        {
            // Its properties do not read: still listed (so it can be purged), as bytes.
            envelope = unreadable.Envelope;
        }
        else
        {
            at = wire.Timestamp;
            if (!context.Codec.TryDecode(wire, out envelope, out _, out _))
            {
                // Unreadable here: kept as bytes under the name it came with, so a replay sends it back as it was.
                envelope = envelope.WithHeaders(MessageHeaders.With(envelope.Headers, AmqpMessage.TypeHeader, wire.TypeName));
            }
        }

        if (AmqpMessage.HeaderString(properties, IdHeader) is { } id && Guid.TryParse(id, out var deadLetterId))
        {
            var error = AmqpMessage.HeaderString(properties, ErrorTypeHeader) is { } errorType
                ? new ErrorInfo(errorType, AmqpMessage.HeaderString(properties, ErrorMessageHeader) ?? string.Empty, AmqpMessage.HeaderString(properties, ErrorStackHeader))
                : null;
            return new DeadLetter(
                deadLetterId,
                envelope,
                AmqpMessage.HeaderString(properties, QueueHeader) ?? queue,
                Enum.TryParse<DeadLetterReason>(AmqpMessage.HeaderString(properties, ReasonHeader), out var reason) ? reason : DeadLetterReason.Failed,
                AmqpMessage.HeaderString(properties, DescriptionHeader) ?? string.Empty,
                error,
                (int)(AmqpMessage.HeaderLong(properties, AttemptsHeader) ?? 0),
                Time(AmqpMessage.HeaderLong(properties, FirstFailedHeader)),
                Time(AmqpMessage.HeaderLong(properties, LastFailedHeader)));
        }

        // Dead-lettered by the broker itself: its reason is the broker's.
        var brokerReason = LastDeathReason(properties) ?? AmqpMessage.HeaderString(properties, "x-first-death-reason");
        return new DeadLetter(
            envelope.MessageId,
            envelope,
            queue,
            brokerReason switch
            {
                "expired" => DeadLetterReason.Expired,
                "maxlen" => DeadLetterReason.Overflow,
                "delivery_limit" => DeadLetterReason.MaxRetriesExceeded,
                _ => DeadLetterReason.Rejected,
            },
            $"the broker dead-lettered it ({brokerReason ?? "unknown"})",
            null,
            envelope.DeliveryCount - 1,
            at,
            at);
    }

    /// <summary>
    /// Why the broker dead-lettered it last: the newest <c>x-death</c> entry (a retry that expired in its wait queue and
    /// then overflowed its queue has died twice; the second death is the one that put it here).
    /// </summary>
    private static string? LastDeathReason(IReadOnlyBasicProperties properties) =>
        properties.Headers is { } headers && headers.TryGetValue("x-death", out var deaths)
            && deaths is System.Collections.IList { Count: > 0 } list && list[0] is IDictionary<string, object?> newest
            && newest.TryGetValue("reason", out var reason)
            ? reason switch
            {
                byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
                string text => text,
                _ => null,
            }
            : null;

    private static DateTimeOffset Time(long? ticks) =>
        ticks is { } value && value is > 0 and <= 3155378975999999999 ? new DateTimeOffset(value, TimeSpan.Zero) : DateTimeOffset.UnixEpoch;
}
