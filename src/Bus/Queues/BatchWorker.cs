using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// A worker that delivers messages in batches to an <see cref="IBatchConsumer{TMessage}"/>: it takes up to
/// <see cref="BatchOptions.MaxSize"/> messages, waits for more until <see cref="BatchOptions.Window"/> has passed since
/// the first one was sent, sets aside expired ones and duplicates, and delivers the rest at once.
/// </summary>
/// <remarks>
/// A batch succeeds or fails as a whole; a failure is handled per message by the retry policy, and messages to be
/// retried at once open the next batch. The window is measured from the first message's timestamp, on the bus's
/// clock, so a test that moves its fake clock past the window finds the batch delivered however the worker was
/// scheduled.
/// </remarks>
internal sealed class BatchWorker : QueueWorker
{
    private readonly int _maxSize;
    private readonly long _windowTicks;
    private readonly Queue<Envelope> _retryNow = new();
    private readonly BatchHandler _handler;
    private readonly Type _messageType;
    private Envelope[] _batch;
    private int _count;
    private Envelope[] _delivering = [];
    private int _deliveringCount;

    public BatchWorker(BusQueue queue, QueueLane lane, int index, BatchConsumerRegistration registration)
        : base(queue, lane, index)
    {
        _maxSize = registration.Batch.MaxSize;
        _windowTicks = registration.Batch.Window.Ticks;
        _handler = registration.CreateBatchHandler(queue);
        _messageType = registration.MessageType;
        _batch = new Envelope[_maxSize];
    }

    /// <summary>None: a batch has many correlation ids, so publishes from a batch consumer start their own.</summary>
    public override Guid? CurrentCorrelationId => null;

    public override bool TryTakeOverInFlight(List<UnprocessedMessage> into)
    {
        if (Interlocked.CompareExchange(ref _inFlight, TakenOver, InFlight) != InFlight)
        {
            return false;
        }

        // Published before the in-flight mark; the worker never changes that array or count once it lost the race.
        var batch = _delivering;
        for (var i = 0; i < _deliveringCount; i++)
        {
            into.Add(new UnprocessedMessage(Queue.Name, batch[i], wasInFlight: true));
        }

        return true;
    }

    protected override async Task RunAsync()
    {
        try
        {
            while (!Queue.IsAborted)
            {
                Fill();
                if (_count == 0)
                {
                    if (!await Lane.WaitToTakeAsync().ConfigureAwait(false) && !Lane.HasParked)
                    {
                        return;
                    }

                    continue;
                }

                if (_count < _maxSize && WindowLeft() is { } left)
                {
                    await CollectAsync(left).ConfigureAwait(false);
                }

                await DeliverAsync().ConfigureAwait(false);
            }
        }
        finally
        {
            Queue.ReturnUnprocessed(_batch.AsSpan(0, _count), wereInFlight: false);
            Queue.ReturnUnprocessed(_retryNow.ToArray(), wereInFlight: false);
            _count = 0;
            _retryNow.Clear();
        }
    }

    /// <summary>Takes messages, retries first, until the batch is full or there are none.</summary>
    private void Fill()
    {
        while (_count < _maxSize && _retryNow.TryDequeue(out var retry))
        {
            _batch[_count++] = retry;
        }

        while (_count < _maxSize && Lane.TryTake(out _batch[_count]))
        {
            _count++;
        }
    }

    /// <summary>How long the batch may still wait for messages, or null when its window has passed.</summary>
    private TimeSpan? WindowLeft()
    {
        var left = _batch[0].TimestampTicks + _windowTicks - Bus.Clock.UtcNow().UtcTicks;
        return left > 0 ? TimeSpan.FromTicks(left) : null;
    }

    /// <summary>
    /// Adds messages as they arrive until the batch is full, the window passes, or the queue closes. Meanwhile the
    /// messages held count as waiting for time, like delayed retries: an idle wait does not wait for the window.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask CollectAsync(TimeSpan left)
    {
        // The timer releases the hold itself, before this worker resumes: whoever moved the clock then finds the batch
        // pending at once, not idle for as long as the worker takes to wake up.
        var hold = new WindowHold(this);
        var timer = Bus.Time.CreateTimer(static state => ((WindowHold)state!).Pass(), hold, left, Timeout.InfiniteTimeSpan);
        try
        {
            // The clock may have moved on between measuring what was left and starting the timer, which then counts
            // from the later time: look again, now that a later move fires the timer.
            if (WindowLeft() is null)
            {
                hold.Pass();
            }

            while (_count < _maxSize && !Queue.IsAborted)
            {
                hold.Add(_count);
                if (!await Lane.WaitToTakeAsync(hold.Token).ConfigureAwait(false))
                {
                    break;
                }

                Fill();
            }
        }
        catch (OperationCanceledException) when (hold.Token.IsCancellationRequested)
        {
            // The window has passed: what arrived by now goes in this batch.
            Fill();
        }
        finally
        {
            hold.Release();
            await timer.DisposeAsync().ConfigureAwait(false);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask DeliverAsync()
    {
        await SetAsideAsync().ConfigureAwait(false);
        if (_count == 0)
        {
            return;
        }

        _delivering = _batch;
        _deliveringCount = _count;

        // A full fence, then a last look at the abort flag, as in a single delivery (see MessageWorker.Deliver).
        Interlocked.Exchange(ref _inFlight, InFlight);
        if (Queue.IsAborted)
        {
            if (TryEndDelivery())
            {
                Queue.ReturnUnprocessed(_batch.AsSpan(0, _count), wereInFlight: false);
                Clear();
            }
            else
            {
                _batch = new Envelope[_maxSize];
                _count = 0;
            }

            return;
        }

        var (failure, timedOut) = await ConsumeAsync().ConfigureAwait(false);
        if (!TryEndDelivery())
        {
            // Taken over by the stop report while the consumer may still be reading its batch: leave it those objects.
            _handler.Abandon();
            _batch = new Envelope[_maxSize];
            _count = 0;
            return;
        }

        if (timedOut)
        {
            // The consumer may go on reading its batch: it keeps the objects it has, and this worker takes new ones.
            _handler.Abandon();
            var overrun = _batch;
            _batch = new Envelope[_maxSize];
            Array.Copy(overrun, _batch, _count);
        }

        var deduplication = Queue.Deduplication;
        if (failure is null)
        {
            for (var i = 0; i < _count; i++)
            {
                deduplication?.Complete(_batch[i].MessageId);
                CountConsumed(_batch[i], _handler.ConsumerType);
            }
        }
        else if (failure is OperationCanceledException && Queue.ConsumerToken.IsCancellationRequested)
        {
            // Stopped past the drain timeout: not processed, and the stop report says so.
            Queue.ReturnUnprocessed(_batch.AsSpan(0, _count), wereInFlight: true);
        }
        else
        {
            for (var i = 0; i < _count; i++)
            {
                await FailOneAsync(_batch[i], failure, timedOut).ConfigureAwait(false);
            }
        }

        Clear();
    }

    /// <summary>Calls the consumer, within the consumer timeout when the queue sets one.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<(Exception? Failure, bool TimedOut)> ConsumeAsync()
    {
        if (Queue.Options.ConsumerTimeout is not { } timeout)
        {
            try
            {
                await _handler.HandleAsync(_batch, _count, Queue.ConsumerToken).ConfigureAwait(false);
                return (null, false);
            }
            catch (Exception exception)
            {
                return (exception, false);
            }
        }

        using var deadline = new Deadline(Bus.Time, timeout);
        using var cancellation = CancellationTokenSource.CreateLinkedTokenSource(Queue.ConsumerToken);
        try
        {
            var running = _handler.HandleAsync(_batch, _count, cancellation.Token).AsTask();
            await Task.WhenAny(running, deadline.Passed).ConfigureAwait(false);
            if (running.IsCompleted)
            {
                await running.ConfigureAwait(false);
                return (null, false);
            }

            Log.ConsumerTimedOut(Bus.Logger, _handler.ConsumerType, _batch[0].MessageId, Queue.Name, timeout);
            await cancellation.CancelAsync().ConfigureAwait(false);
            return (new TimeoutException($"The batch consumer did not finish within {timeout}."), true);
        }
        catch (Exception exception)
        {
            return (exception, false);
        }
    }

    /// <summary>
    /// Dead-letters messages of another type (as <see cref="DeadLetterReason.NoConsumer"/>) and expired ones, skips
    /// duplicates, and keeps the rest in order.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SetAsideAsync()
    {
        var deduplication = Queue.Deduplication;
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            var envelope = _batch[i];
            if (envelope.MessageType != _messageType)
            {
                // Sent to this queue by name, or bound to it: a batch consumer takes one message type only.
                await EndSafelyAsync(DeadLetterAsync(envelope, DeadLetterReason.NoConsumer, $"queue '{Queue.Name}' has no consumer for {envelope.MessageType}", null, envelope.DeliveryCount - 1), envelope).ConfigureAwait(false);
            }
            else if (IsExpired(envelope))
            {
                await EndSafelyAsync(ExpireAsync(envelope), envelope).ConfigureAwait(false);
            }
            else if (deduplication is not null && !deduplication.TryBegin(envelope.MessageId))
            {
                Log.DuplicateSkipped(Bus.Logger, envelope.MessageId, envelope.MessageType, Queue.Name);
                Volatile.Write(ref _duplicates, _duplicates + 1);
                Queue.NotifyIfIdle();
            }
            else
            {
                _batch[kept++] = envelope;
            }
        }

        Array.Clear(_batch, kept, _count - kept);
        _count = kept;
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FailOneAsync(Envelope envelope, Exception failure, bool timedOut)
    {
        Queue.Deduplication?.Abandon(envelope.MessageId);
        try
        {
            if (await FailedAsync(_handler.RetryPolicy, envelope, failure, null, timedOut).ConfigureAwait(false) is { } next)
            {
                _retryNow.Enqueue(next);
            }
        }
        catch (Exception exception)
        {
            OnInternalError(envelope, exception);
        }
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask EndSafelyAsync(ValueTask ending, Envelope envelope)
    {
        try
        {
            await ending.ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            OnInternalError(envelope, exception);
        }
    }

    /// <summary>
    /// The bus itself failed while ending a message (a dead-letter store or retry policy of the application threw). The
    /// worker lives on; the message stays pending and is reported when the bus stops, never dropped.
    /// </summary>
    private void OnInternalError(in Envelope envelope, Exception exception)
    {
        Log.DeliveryBroke(Bus.Logger, exception, envelope.MessageId, envelope.MessageType, Queue.Name);
        Queue.ReturnUnprocessed([envelope], wereInFlight: true);
    }

    /// <summary>Empties the batch after a delivery this worker ended (not one the stop report took over).</summary>
    private void Clear()
    {
        Array.Clear(_batch, 0, _count);
        _count = 0;
        _delivering = [];
        _deliveringCount = 0;
    }

    /// <summary>
    /// The messages of one batch held for its window, counted in the worker's window counters: added by the worker,
    /// released once by whichever comes first, the window's timer or the worker. <see cref="_lock"/> makes the two
    /// writers of the counters take turns.
    /// </summary>
    private sealed class WindowHold(BatchWorker worker)
    {
        private readonly Lock _lock = new();

        // Not disposed: the timer may fire while being disposed, and cancelling a disposed source would throw on the
        // timer's thread. A source without a timer or links of its own holds nothing that needs releasing.
        private readonly CancellationTokenSource _passed = new();
        private int _held;
        private bool _released;

        public CancellationToken Token => _passed.Token;

        /// <summary>Counts the batch's messages not counted yet, and wakes idle waiters.</summary>
        public void Add(int count)
        {
            lock (_lock)
            {
                if (_released || count <= _held)
                {
                    return;
                }

                Volatile.Write(ref worker._windowHeld, worker._windowHeld + (count - _held));
                _held = count;
            }

            worker.Queue.NotifyIfIdle();
        }

        /// <summary>The window has passed: the messages are pending again, and the worker stops waiting.</summary>
        public void Pass()
        {
            Release();
            _passed.Cancel();
        }

        public void Release()
        {
            lock (_lock)
            {
                if (!_released)
                {
                    _released = true;
                    Volatile.Write(ref worker._windowReleased, worker._windowReleased + _held);
                }
            }
        }
    }
}
