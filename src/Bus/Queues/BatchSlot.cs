using System.Runtime.CompilerServices;

namespace Bus;

/// <summary>
/// A slot that delivers batches to an <see cref="IBatchConsumer{TMessage}"/>: its reader fills it with up to
/// <see cref="BatchOptions.MaxSize"/> messages, waiting for more until <see cref="BatchOptions.Window"/> has passed since
/// the first one was sent; expired messages, messages of another type and duplicates are set aside, and the rest are
/// delivered at once.
/// </summary>
/// <remarks>
/// A batch succeeds or fails as a whole; a failure is settled per message by the retry policy, and the messages to be
/// retried at once are delivered again right away, as a batch of their own. The window is measured from the first
/// message's timestamp on the bus's clock, so a test that moves its fake clock past the window finds the batch delivered
/// however the reader was scheduled.
/// </remarks>
internal sealed class BatchSlot : ConsumerSlot
{
    private readonly int _maxSize;
    private readonly long _windowTicks;
    private readonly BatchHandler _handler;
    private readonly Type _messageType;
    private readonly Queue<(Envelope Envelope, long Lease)> _retryNow = new();
    private readonly Action _onPendingCompleted;
    private Envelope[] _batch;
    private long[] _leases;
    private int _count;
    private ValueTask _pending;
    private DeliveryObserver? _observer;

    public BatchSlot(QueueReader reader, int index, BatchConsumerRegistration registration)
        : base(reader, index)
    {
        _maxSize = registration.Batch.MaxSize;
        _windowTicks = registration.Batch.Window.Ticks;
        _handler = registration.CreateBatchHandler(Queue);
        _messageType = registration.MessageType;
        _batch = new Envelope[_maxSize];
        _leases = new long[_maxSize];
        _onPendingCompleted = ContinueDetached;
    }

    /// <summary>None: a batch has many correlation ids, so publishes from a batch consumer start their own.</summary>
    public override Guid? CurrentCorrelationId => null;

    public override bool TryFill()
    {
        _count = 0;
        Fill();
        return _count > 0;
    }

    /// <summary>
    /// Adds messages as they arrive until the batch is full, the window passes, or the queue closes. Meanwhile the
    /// messages held count as waiting for the clock, like delayed retries: waiting for idle does not wait for the window.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    public override async ValueTask CollectAsync()
    {
        if (_count >= _maxSize || WindowLeft() is not { } left)
        {
            return;
        }

        // The timer releases the hold itself, before the reader resumes: whoever moved the clock then finds the batch
        // pending at once, not idle for as long as the reader takes to wake up.
        var hold = new WindowHold(Queue.Ledger);
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

    public override void SetAsideHeld()
    {
        for (var i = 0; i < _count; i++)
        {
            SetAside(_batch[i], ref _leases[i], wasInFlight: false);
        }

        Clear();
        while (_retryNow.TryDequeue(out var retry))
        {
            SetAside(retry.Envelope, ref retry.Lease, wasInFlight: false);
        }
    }

    protected override bool RunHeld()
    {
        ValueTask run;
        try
        {
            run = RunBatchesAsync();
        }
        catch (Exception exception)
        {
            InternalError(exception);
            return !IsTakenOver;
        }

        if (!run.IsCompleted)
        {
            _pending = run;
            run.ConfigureAwait(false).GetAwaiter().UnsafeOnCompleted(_onPendingCompleted);
            return false;
        }

        return End(run);
    }

    protected override bool CompleteDetached()
    {
        var pending = _pending;
        _pending = default;
        return End(pending);
    }

    protected override void ReportTakenOver(List<UnprocessedMessage> into)
    {
        // Published before the slot entered flight; the slot changes neither array nor count once it lost the race.
        for (var i = 0; i < _count; i++)
        {
            Report(into, _batch[i], ref _leases[i], wasInFlight: true);
        }

        foreach (var retry in _retryNow)
        {
            Settlement.Report(into, [retry.Envelope], wereInFlight: false);
        }
    }

    /// <summary>Ends a run that has completed; false when the slot was taken over meanwhile.</summary>
    private bool End(ValueTask run)
    {
        try
        {
            run.GetAwaiter().GetResult();
        }
        catch (Exception exception)
        {
            InternalError(exception);
        }

        return !IsTakenOver;
    }

    /// <summary>Takes messages, retries first, until the batch is full or there are none.</summary>
    private void Fill()
    {
        while (_count < _maxSize && _retryNow.TryDequeue(out var retry))
        {
            _leases[_count] = retry.Lease;
            _batch[_count++] = retry.Envelope;
        }

        while (_count < _maxSize && Lane.TryTake(out _batch[_count], out _leases[_count]))
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

    /// <summary>Delivers the batch held, then the retries it left for now, until none is left.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunBatchesAsync()
    {
        while (true)
        {
            if (Queue.IsAborted)
            {
                SetAsideHeld();
                return;
            }

            await SetAsideUnfitAsync().ConfigureAwait(false);
            if (_count > 0 && !await DeliverAsync().ConfigureAwait(false))
            {
                return;
            }

            if (_retryNow.Count == 0)
            {
                return;
            }

            Fill();
        }
    }

    /// <summary>Delivers the batch and settles each message; false when the stop took the slot over.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<bool> DeliverAsync()
    {
        switch (EnterFlight())
        {
            case FlightEntry.Aborted:
                SetAsideHeld();
                return true;
            case FlightEntry.TakenOver:
                return false;
        }

        // Inside this method's own execution context: the span is ambient for the consumer and the settling below, and
        // leaves with the method.
        DeliveryObserver? observer = null;
        if (DeliveryObserver.IsWanted(Bus))
        {
            observer = _observer ??= new DeliveryObserver(Bus);
            observer.BeginBatch(Queue, _batch.AsSpan(0, _count), _handler.ConsumerType);
        }

        var result = await ConsumeAsync().ConfigureAwait(false);
        if (result.Failure is not null)
        {
            observer?.Failed(result.Failure);
        }

        if (!TryLeaveFlight())
        {
            observer?.End(takenOver: true);
            // Taken over: the stop reads the batch and its count, and the consumer may still read its batch object, so
            // neither is touched again; a slot taken over is never used again.
            _handler.Abandon();
            return false;
        }

        if (result.TimedOut)
        {
            // The consumer may go on reading its batch: it keeps the objects it has, and this slot takes new ones.
            _handler.Abandon();
            var overrun = _batch;
            _batch = new Envelope[_maxSize];
            Array.Copy(overrun, _batch, _count);
        }

        if (result.Failure is null)
        {
            for (var i = 0; i < _count; i++)
            {
                Settlement.Consumed(_batch[i], _handler.ConsumerType);
                SettleLease(ref _leases[i], DeliveryOutcome.Acknowledged);
            }
        }
        else if (Invoker.IsNotProcessed(result.Failure))
        {
            for (var i = 0; i < _count; i++)
            {
                Queue.Deduplication?.Abandon(_batch[i].MessageId);
                SetAside(_batch[i], ref _leases[i], wasInFlight: true);
            }
        }
        else
        {
            for (var i = 0; i < _count; i++)
            {
                if (await Settlement.FailedAsync(_handler.RetryPolicy, _batch[i], result.Failure, null, result.TimedOut).ConfigureAwait(false) is { } next)
                {
                    _retryNow.Enqueue((next, _leases[i]));
                }
                else
                {
                    SettleLease(ref _leases[i], DeliveryOutcome.Acknowledged);
                }
            }
        }

        observer?.End();
        Clear();
        return true;
    }

    /// <summary>Calls the consumer, within the consumer timeout when the queue sets one.</summary>
    private ValueTask<CallResult> ConsumeAsync()
    {
        var deadline = Invoker.StartDeadline();
        ValueTask consumed;
        try
        {
            consumed = _handler.HandleAsync(_batch, _count, Invoker.Token);
        }
        catch (Exception exception)
        {
            deadline?.Dispose();
            return new(new CallResult(exception, TimedOut: false));
        }

        if (consumed.IsCompletedSuccessfully && deadline is null)
        {
            consumed.GetAwaiter().GetResult();
            return default;
        }

        return Invoker.CompleteAsync(consumed, deadline, _handler.ConsumerType, _batch[0].MessageId);
    }

    /// <summary>
    /// Dead-letters messages of another type (as <see cref="DeadLetterReason.NoConsumer"/>) and expired ones, skips
    /// duplicates, and keeps the rest in order.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask SetAsideUnfitAsync()
    {
        var deduplication = Queue.Deduplication;
        var kept = 0;
        for (var i = 0; i < _count; i++)
        {
            var envelope = _batch[i];
            if (envelope.MessageType != _messageType)
            {
                // Sent to this queue by name, or bound to it: a batch consumer takes one message type only.
                await Settlement.NoConsumerAsync(envelope).ConfigureAwait(false);
            }
            else if (Queue.IsExpired(envelope))
            {
                await Settlement.ExpiredAsync(envelope).ConfigureAwait(false);
            }
            else if (deduplication is not null && !deduplication.TryBegin(envelope.MessageId))
            {
                Settlement.Duplicate(envelope);
            }
            else
            {
                _leases[kept] = _leases[i];
                _batch[kept++] = envelope;
                continue;
            }

            SettleLease(ref _leases[i], DeliveryOutcome.Acknowledged);
        }

        Array.Clear(_batch, kept, _count - kept);
        _count = kept;
    }

    /// <summary>
    /// The bus itself failed while delivering (a bug, since settlement never throws): what the slot holds is set aside
    /// for the stop report rather than lost.
    /// </summary>
    private void InternalError(Exception exception)
    {
        var envelope = _count > 0 ? _batch[0] : default;
        Log.DeliveryBroke(Bus.Logger, exception, envelope.MessageId, _messageType, Queue.Name);
        if (TryLeaveFlight() || State == Held)
        {
            SetAsideHeld();
        }
    }

    /// <summary>Empties the batch after a delivery this slot ended.</summary>
    private void Clear()
    {
        Array.Clear(_batch, 0, _count);
        _count = 0;
    }

    /// <summary>
    /// The messages of one batch held for its window, counted as waiting in the ledger: added by the reader, released
    /// once by whichever comes first, the window's timer or the reader. <see cref="_lock"/> makes the two take turns.
    /// </summary>
    private sealed class WindowHold(QueueLedger ledger)
    {
        private readonly Lock _lock = new();

        // Not disposed: the timer may fire while being disposed, and cancelling a disposed source would throw on the
        // timer's thread. A source without a timer or links of its own holds nothing that needs releasing.
        private readonly CancellationTokenSource _passed = new();
        private int _held;
        private bool _released;

        public CancellationToken Token => _passed.Token;

        /// <summary>Counts the batch's messages not counted yet.</summary>
        public void Add(int count)
        {
            lock (_lock)
            {
                for (; !_released && _held < count; _held++)
                {
                    ledger.Defer(WaitKind.BatchWindow);
                }
            }
        }

        /// <summary>The window has passed: the messages are active again, and the reader stops waiting.</summary>
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
                    ledger.Resume(WaitKind.BatchWindow, _held);
                }
            }
        }
    }
}
