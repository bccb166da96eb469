using System.Diagnostics;

namespace Bus;

/// <summary>
/// One of a queue's competing consumers (<see cref="QueueOptions.Concurrency"/> of them per lane): it holds the
/// messages it was given (one, up to <see cref="QueueOptions.PrefetchCount"/>, or a batch) and delivers them in order.
/// A reader fills it and runs it on its own thread while its consumers complete synchronously; when a consumer goes
/// asynchronous the slot carries on by itself, on the consumer's continuation, and goes back to its reader when done.
/// </summary>
/// <remarks>
/// <para>
/// States: <see cref="Free"/> in the reader's pool holding nothing; <see cref="Held"/> holding messages, its owner (a
/// reader or its own continuation) running bus code; <see cref="InFlight"/> while a consumer runs; and
/// <see cref="TakenOver"/> once the stop has taken its messages. Entering and leaving <see cref="InFlight"/> and taking
/// over are compare-and-swaps on <see cref="_state"/>, so exactly one of the slot and the stop decides the outcome of
/// the messages held: a slot whose leave fails touches them no more. Everything the stop takes was written before the
/// slot entered <see cref="InFlight"/>, whose full fence publishes it.
/// </para>
/// <para>
/// Each slot runs its consumers in an execution context of its own in which <see cref="Current"/> is the slot: that is
/// how a publish through an injected <see cref="IPublisher"/> knows it comes from a consumer (and must not wait for room)
/// and which correlation id it carries on.
/// </para>
/// </remarks>
[DebuggerDisplay("Slot {Index} of {Queue.Name,nq}: {StateName,nq}")]
internal abstract class ConsumerSlot
{
    internal const int Free = 0;
    internal const int Held = 1;
    internal const int InFlight = 2;
    internal const int TakenOver = 3;

    /// <summary>A lease already settled, or none (transports without leases).</summary>
    protected const long NoLease = QueueLane.NoLease;

    private static readonly AsyncLocal<ConsumerSlot?> s_current = new();
    private static readonly ContextCallback s_runHeld = static slot => t_ranInline = ((ConsumerSlot)slot!).RunHeld();

    // The callback of ExecutionContext.Run runs on the calling thread, so its result comes back through a thread-static:
    // a field of the slot would be shared with the slot's own continuation, which may already run on another thread.
    [ThreadStatic]
    private static bool t_ranInline;

    // The context consumers run in is built from the default one: not from whoever happened to start the bus or add
    // the consumer, whose ambient values (an Activity, a logging scope) would otherwise leak into every consumer.
    private static readonly ExecutionContext s_clean = CaptureClean();

    private readonly ExecutionContext _context;
    private int _state = Free;

    protected ConsumerSlot(QueueReader reader, int index)
    {
        Reader = reader;
        Queue = reader.Queue;
        Lane = reader.Lane;
        Index = index;
        Settlement = Queue.Settlement;
        Invoker = new ConsumerInvoker(Queue);

        _context = ContextFor(this);
    }

    /// <summary>The slot whose consumer the calling code runs in, or null outside consumers.</summary>
    public static ConsumerSlot? Current => s_current.Value;

    public QueueReader Reader { get; }

    public BusQueue Queue { get; }

    public QueueLane Lane { get; }

    /// <summary>Which of the queue's competing consumers this is, from 0 to <see cref="QueueOptions.Concurrency"/> - 1.</summary>
    public int Index { get; }

    public MessageBus Bus => Queue.Bus;

    /// <summary>The correlation id of the message being consumed, for publishes that carry it over.</summary>
    public abstract Guid? CurrentCorrelationId { get; }

    /// <summary>The DI scope of the delivery in flight, for scoped publish filters of what it publishes; null when none.</summary>
    public virtual IServiceProvider? CurrentServices => null;

    public int State => Volatile.Read(ref _state);

    protected QueueSettlement Settlement { get; }

    protected ConsumerInvoker Invoker { get; }

    private string StateName => State switch { Free => "free", Held => "held", InFlight => "in flight", _ => "taken over" };

    /// <summary>Takes messages from the lane, if there are any; called by a reader on a slot it owns.</summary>
    public abstract bool TryFill();

    /// <summary>Waits for more messages before delivering, when the slot collects batches; called after <see cref="TryFill"/>.</summary>
    public virtual ValueTask CollectAsync() => default;

    /// <summary>
    /// Delivers what the slot holds on the calling reader's thread. True when everything was delivered synchronously;
    /// false when a delivery went asynchronous: the slot then finishes on its own and returns itself to the reader.
    /// </summary>
    public bool RunInline()
    {
        ExecutionContext.Run(_context, s_runHeld, this);
        return t_ranInline;
    }

    /// <summary>
    /// Takes over what a consumer is still working on after the stop gave up waiting for it: whatever the consumer does
    /// later, the report decides the outcome of these messages. False when no consumer of this slot is running.
    /// </summary>
    public bool TryTakeOver(List<UnprocessedMessage> into)
    {
        if (Interlocked.CompareExchange(ref _state, TakenOver, InFlight) != InFlight)
        {
            return false;
        }

        ReportTakenOver(into);
        return true;
    }

    /// <summary>The default execution context with <see cref="Current"/> set to the slot.</summary>
    private static ExecutionContext ContextFor(ConsumerSlot slot)
    {
        ExecutionContext? context = null;
        ExecutionContext.Run(
            s_clean,
            _ =>
            {
                s_current.Value = slot;
                context = ExecutionContext.Capture();
            },
            null);
        return context!;
    }

    /// <summary>The default execution context, captured on a thread that has nothing flowing into it.</summary>
    private static ExecutionContext CaptureClean()
    {
        ExecutionContext? clean = null;
        using (ExecutionContext.SuppressFlow())
        {
            var thread = new Thread(() => clean = ExecutionContext.Capture()) { IsBackground = true, Name = "Bus context" };
            thread.Start();
            thread.Join();
        }

        return clean!;
    }

    /// <summary>Gives the slot back to the pool, holding nothing; only its reader's pool calls this.</summary>
    internal void MarkFree() => Volatile.Write(ref _state, Free);

    /// <summary>A reader took the slot from the pool to fill it.</summary>
    internal void MarkHeld() => Volatile.Write(ref _state, Held);

    /// <summary>Sets aside what the slot still holds, for the stop report; called by its owner once the queue aborted.</summary>
    public abstract void SetAsideHeld();

    /// <summary>Delivers what the slot holds; see <see cref="RunInline"/>.</summary>
    protected abstract bool RunHeld();

    /// <summary>Adds what the slot holds to the report, once it was taken over.</summary>
    protected abstract void ReportTakenOver(List<UnprocessedMessage> into);

    /// <summary>
    /// Marks the slot in flight, a full fence, then looks at the abort flag a last time: a stop that found the slot held
    /// waits for its owner, so the owner must not start a consumer that might never return; a stop that comes later
    /// takes the messages over.
    /// </summary>
    protected FlightEntry EnterFlight()
    {
        // From held only: a slot the stop took over stays taken over.
        if (Interlocked.CompareExchange(ref _state, InFlight, Held) != Held)
        {
            return FlightEntry.TakenOver;
        }

        if (!Queue.IsAborted)
        {
            return FlightEntry.Entered;
        }

        return TryLeaveFlight() ? FlightEntry.Aborted : FlightEntry.TakenOver;
    }

    /// <summary>Ends a consumer call; false when the stop took the slot over, and its messages are no longer ours.</summary>
    protected bool TryLeaveFlight() => Interlocked.CompareExchange(ref _state, Held, InFlight) == InFlight;

    /// <summary>Settles a delivery's lease with a transport that leases deliveries, once: the lease is spent after.</summary>
    protected void SettleLease(ref long lease, DeliveryOutcome outcome)
    {
        if (lease != NoLease)
        {
            Lane.SettleLease(lease, outcome);
            lease = NoLease;
        }
    }

    /// <summary>
    /// Sets a message that will not be processed aside for the stop report, and requeues its lease. A transport that
    /// keeps requeued deliveries (a broker) delivers it again, so it is returned instead of reported.
    /// </summary>
    protected void SetAside(in Envelope envelope, ref long lease, bool wasInFlight)
    {
        if (lease != NoLease && Lane.ReturnsRequeued)
        {
            SettleLease(ref lease, DeliveryOutcome.Requeued);
            Settlement.Returned(envelope);
            return;
        }

        Settlement.SetAside(envelope, wasInFlight);
        SettleLease(ref lease, DeliveryOutcome.Requeued);
    }

    /// <summary>Adds a message taken over by the stop to its report and requeues its lease; returned instead, as in <see cref="SetAside(in Envelope, ref long, bool)"/>.</summary>
    protected void Report(List<UnprocessedMessage> into, in Envelope envelope, ref long lease, bool wasInFlight)
    {
        if (lease != NoLease && Lane.ReturnsRequeued)
        {
            SettleLease(ref lease, DeliveryOutcome.Requeued);
            Settlement.Returned(envelope);
            return;
        }

        Settlement.Report(into, [envelope], wasInFlight);
        SettleLease(ref lease, DeliveryOutcome.Requeued);
    }

    /// <summary>Whether the stop took the slot over.</summary>
    protected bool IsTakenOver => Volatile.Read(ref _state) == TakenOver;

    /// <summary>
    /// Continues a delivery that went asynchronous once it completes: in the slot's own execution context, delivers the
    /// rest of what the slot holds, then returns the slot to its reader.
    /// </summary>
    protected void ContinueDetached()
    {
        ExecutionContext.Run(_context, static slot => ((ConsumerSlot)slot!).ResumeDetached(), this);
    }

    /// <summary>Finishes the delivery that went asynchronous; false when another went asynchronous after it.</summary>
    protected abstract bool CompleteDetached();

    private void ResumeDetached()
    {
        if (CompleteDetached() && RunHeld())
        {
            Reader.Release(this);
        }
    }
}

/// <summary>What became of a slot's attempt to start a consumer.</summary>
internal enum FlightEntry
{
    /// <summary>The consumer may start.</summary>
    Entered,

    /// <summary>The queue aborted first: the slot holds its messages again, to set them aside for the report.</summary>
    Aborted,

    /// <summary>The stop took the slot over: its messages are no longer the slot's to touch.</summary>
    TakenOver,
}
