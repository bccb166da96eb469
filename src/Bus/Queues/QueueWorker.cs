using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// One consumer of a queue: takes messages from its lane and delivers them, one at a time (<see cref="MessageWorker"/>)
/// or in batches (<see cref="BatchWorker"/>). This base holds what both share: the counters the queue's idle check
/// and statistics read, the in-flight state the stop report takes over, and what happens to a failed delivery.
/// </summary>
/// <remarks>
/// <para>
/// A worker records itself in an <see cref="AsyncLocal{T}"/> once at start; everything a consumer does inherits that,
/// which is how a publish through an injected <see cref="IPublisher"/> knows it comes from a consumer and must not wait
/// for room. Counters are written by this worker only and read by others, so they need no interlocked operations.
/// </para>
/// <para>
/// <see cref="_inFlight"/> is 0 when no delivery runs, 1 while a consumer works on one, and 2 once the stop report has
/// taken that delivery over. Ending a delivery and taking it over both go through CompareExchange, so exactly one of
/// them decides its outcome.
/// </para>
/// </remarks>
internal abstract class QueueWorker
{
    protected const int Idle = 0;
    protected const int InFlight = 1;
    protected const int TakenOver = 2;

    private static readonly AsyncLocal<QueueWorker?> s_current = new();

    private protected int _inFlight;
    private protected long _consumed;
    private protected long _duplicates;
    private protected long _deadLettered;
    private protected long _retriesScheduled;
    private protected long _faulted;
    private protected long _retried;
    private protected long _expired;
    private protected long _windowHeld;
    private protected long _windowReleased;

    protected QueueWorker(BusQueue queue, QueueLane lane, int index)
    {
        Queue = queue;
        Lane = lane;
        Index = index;
    }

    /// <summary>The worker whose consumer the calling code runs in, or null outside consumers.</summary>
    public static QueueWorker? Current => s_current.Value;

    public BusQueue Queue { get; }

    public QueueLane Lane { get; }

    /// <summary>Which of the queue's competing consumers this is, from 0 to <see cref="QueueOptions.Concurrency"/> - 1.</summary>
    public int Index { get; }

    public MessageBus Bus => Queue.Bus;

    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>Messages this worker ended: consumed, skipped as duplicates, or dead-lettered.</summary>
    public long Finished => Volatile.Read(ref _consumed) + Volatile.Read(ref _duplicates) + Volatile.Read(ref _deadLettered);

    public long RetriesScheduled => Volatile.Read(ref _retriesScheduled);

    /// <summary>Messages that began waiting in a batch for its window to pass (see <see cref="BatchWorker"/>).</summary>
    public long WindowHeld => Volatile.Read(ref _windowHeld);

    /// <summary>Messages whose batch window has passed.</summary>
    public long WindowReleased => Volatile.Read(ref _windowReleased);

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public abstract Guid? CurrentCorrelationId { get; }

    public void Start() => Completion = Task.Run(async () =>
    {
        s_current.Value = this;
        await RunAsync().ConfigureAwait(false);
    });

    /// <summary>
    /// Takes over what a consumer is still working on after the stop gave up waiting: whatever the consumer does later,
    /// the stop report decides the outcome of these messages.
    /// </summary>
    public abstract bool TryTakeOverInFlight(List<UnprocessedMessage> into);

    public void AddTo(QueueStatistics statistics)
    {
        statistics.Consumed += Volatile.Read(ref _consumed);
        statistics.Duplicates += Volatile.Read(ref _duplicates);
        statistics.DeadLettered += Volatile.Read(ref _deadLettered);
        statistics.Faulted += Volatile.Read(ref _faulted);
        statistics.Retried += Volatile.Read(ref _retried);
        statistics.Expired += Volatile.Read(ref _expired);
    }

    protected abstract Task RunAsync();

    /// <summary>Ends the current delivery; false when the stop report took it over, and its outcome is no longer ours.</summary>
    protected bool TryEndDelivery() => Interlocked.CompareExchange(ref _inFlight, Idle, InFlight) == InFlight;

    protected bool IsExpired(in Envelope envelope)
    {
        var own = envelope.TimeToLiveMilliseconds;
        var queue = Queue.TimeToLiveMilliseconds;
        if ((own | queue) == 0)
        {
            return false;
        }

        var limit = own == 0 ? queue : queue == 0 ? own : Math.Min(own, queue);
        return Bus.Clock.UtcNow().UtcTicks >= envelope.TimestampTicks + (limit * TimeSpan.TicksPerMillisecond);
    }

    /// <summary>Dead-letters an expired message; it was never delivered this time.</summary>
    protected ValueTask ExpireAsync(in Envelope envelope)
    {
        Volatile.Write(ref _expired, _expired + 1);
        return DeadLetterAsync(envelope, DeadLetterReason.Expired, "its time to live ran out before delivery", null, envelope.DeliveryCount - 1);
    }

    protected void CountConsumed(in Envelope envelope, Type consumerType)
    {
        Bus.Observers?.Consumed(envelope, Queue.Name, consumerType);
        Volatile.Write(ref _consumed, _consumed + 1);
        Queue.NotifyIfIdle();
    }

    /// <summary>
    /// A failed delivery, after its rejection was checked: counted, then ended by the retry policy. Returns the next
    /// attempt when it is to be delivered again at once; the caller delivers it, so that a long run of immediate retries
    /// does not deepen the stack.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    protected async ValueTask<Envelope?> FailedAsync(IRetryPolicy policy, Envelope envelope, Exception exception, string? rejection, bool timedOut)
    {
        Volatile.Write(ref _faulted, _faulted + 1);
        Bus.Observers?.Faulted(envelope, Queue.Name, exception);
        if (rejection is not null || exception is MessageRejectedException)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.Rejected, rejection ?? exception.Message, exception, envelope.DeliveryCount).ConfigureAwait(false);
            return null;
        }

        RetryDecision decision;
        try
        {
            decision = policy.Decide(new RetryContext(exception, envelope, Queue.Name));
        }
        catch (Exception policyError)
        {
            await DeadLetterAsync(envelope, DeadLetterReason.MaxRetriesExceeded, $"the retry policy threw {policyError.GetType().Name}: {policyError.Message}", exception, envelope.DeliveryCount).ConfigureAwait(false);
            return null;
        }

        if (!decision.ShouldRetry)
        {
            var reason = timedOut ? DeadLetterReason.ConsumerTimeout : decision.Reason;
            var description = reason switch
            {
                DeadLetterReason.NotRetryable => $"{exception.GetType().Name} is not retried",
                DeadLetterReason.ConsumerTimeout => exception.Message,
                _ => $"failed {envelope.DeliveryCount} time(s): {exception.Message}",
            };
            await DeadLetterAsync(envelope, reason, description, exception, envelope.DeliveryCount).ConfigureAwait(false);
            return null;
        }

        Volatile.Write(ref _retried, _retried + 1);
        Log.RetryScheduled(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, envelope.DeliveryCount, Queue.Name, decision.Delay);
        var next = NextAttempt(envelope);
        if (decision.Delay == TimeSpan.Zero)
        {
            Bus.Observers?.Retrying(next, Queue.Name, decision.Delay);
            return next;
        }

        switch (Bus.Delayed.TrySchedule(Queue, next, decision.Delay))
        {
            case ScheduleResult.Scheduled:
                Bus.Observers?.Retrying(next, Queue.Name, decision.Delay);
                Volatile.Write(ref _retriesScheduled, _retriesScheduled + 1);
                Queue.NotifyIfIdle();
                break;
            case ScheduleResult.Full:
                await DeadLetterAsync(envelope, DeadLetterReason.Overflow, $"the retry schedule is full ({Bus.Options.ScheduledCapacity} messages)", exception, envelope.DeliveryCount).ConfigureAwait(false);
                break;
            default:
                // The bus is stopping and its schedule is closed: the stop report takes the message.
                Queue.ReturnUnprocessed([next], wereInFlight: false);
                break;
        }

        return null;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    protected async ValueTask DeadLetterAsync(Envelope envelope, DeadLetterReason reason, string description, Exception? exception, int attempts)
    {
        await Queue.DeadLetterAsync(envelope, reason, description, exception, attempts).ConfigureAwait(false);
        Volatile.Write(ref _deadLettered, _deadLettered + 1);
        Queue.NotifyIfIdle();
    }

    private Envelope NextAttempt(in Envelope envelope)
    {
        var next = envelope.WithDeliveryCount(envelope.DeliveryCount + 1);
        return envelope.Headers.ContainsKey(RetryHeaders.FirstFailedAt)
            ? next
            : next.WithHeaders(MessageHeaders.With(envelope.Headers, RetryHeaders.FirstFailedAt, Bus.Time.GetUtcNow()));
    }
}
