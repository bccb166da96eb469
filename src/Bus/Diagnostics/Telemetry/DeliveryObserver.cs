using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>
/// What one consumer slot records about the delivery it runs: the consumer span, the logging scope and the process
/// metrics. <see cref="Begin"/> is called just before the consumer, on the slot's thread, and makes the span and the
/// scope ambient there, so the consumer (and what it publishes) runs inside them; <see cref="LeaveAmbient"/> clears
/// them from the slot's context once the consumer has started, since the consumer's own awaits carry them on; and
/// <see cref="End"/> closes the span when the delivery is settled.
/// </summary>
/// <remarks>Not thread-safe; a slot runs one delivery at a time.</remarks>
internal sealed class DeliveryObserver(MessageBus bus)
{
    private Activity? _activity;
    private IDisposable? _scope;
    private long _started;
    private Exception? _failure;
    private bool _active;
    private bool _invoked;
    private bool _madeCurrent;
    private string _queue = string.Empty;
    private Type _messageType = typeof(object);
    private int _count;

    /// <summary>Whether anything records deliveries: a sampled span, a listened instrument, or a logger for scopes.</summary>
    public static bool IsWanted(MessageBus bus) =>
        bus.LogsScopes || BusDiagnostics.Source.HasListeners() || bus.Metrics.ObservesConsume;

    /// <summary>
    /// Begins a delivery: its span and log scope, before the bus looks at the message, so that an expiry or a dead
    /// letter for want of a consumer shows on the span too. The consumer type is null when the queue has none for it.
    /// </summary>
    public void Begin(BusQueue queue, in Envelope envelope, Type? consumerType)
    {
        _active = true;
        _invoked = false;
        _failure = null;
        _queue = queue.Name;
        _messageType = envelope.MessageType;
        _count = 1;
        _started = bus.Metrics.ObservesConsume ? Stopwatch.GetTimestamp() : 0;
        try
        {
            _activity = BusDiagnostics.Source.HasListeners() ? BusTracing.StartProcess(queue, envelope, consumerType) : null;
            _madeCurrent = _activity is not null;
            _scope = bus.LogsScopes ? bus.Logger.BeginScope(new ConsumeLogScope(envelope, queue.Name)) : null;
        }
        catch (Exception exception)
        {
            // A listener's callback or a logger provider threw: the delivery goes on without them.
            Log.ObserverFailed(bus.Logger, exception, typeof(DeliveryObserver), nameof(Begin));
        }
    }

    public void BeginBatch(BusQueue queue, ReadOnlySpan<Envelope> batch, Type consumerType)
    {
        _active = true;
        _invoked = true;
        _failure = null;
        _queue = queue.Name;
        _messageType = batch[0].MessageType;
        _count = batch.Length;
        _started = bus.Metrics.ObservesConsume ? Stopwatch.GetTimestamp() : 0;
        try
        {
            _activity = BusDiagnostics.Source.HasListeners() ? BusTracing.StartBatch(queue, batch, consumerType) : null;
        }
        catch (Exception exception)
        {
            Log.ObserverFailed(bus.Logger, exception, typeof(DeliveryObserver), nameof(BeginBatch));
        }
    }

    /// <summary>Clears the span and scope from the slot's own context: the next delivery must not start inside them.</summary>
    public void LeaveAmbient()
    {
        // Even when the span has ended already: a settlement that ended it inside an async method restored the previous
        // span only in that method's context, and the slot's context still has the stopped one.
        if (_madeCurrent)
        {
            _madeCurrent = false;
            Activity.Current = null;
        }

        _scope?.Dispose();
        _scope = null;
    }

    /// <summary>The consumer is about to be called: the delivery counts in the process metrics.</summary>
    public void Invoked() => _invoked = true;

    public void Failed(Exception failure)
    {
        _failure = failure;
        BusTracing.Fail(_activity, failure);
    }

    /// <summary>
    /// Records the delivery's duration and outcome and closes its span; nothing when no delivery is open. A delivery the
    /// stop took over is not measured: the stop's report counts its messages as unprocessed. The settlement calls it
    /// just before it counts the message out, so that whoever waits for the bus to go idle finds the span and the
    /// measurements already recorded; the slot calls it again at the end of the delivery, which then does nothing.
    /// </summary>
    public void End(bool takenOver = false)
    {
        if (!_active)
        {
            return;
        }

        _active = false;
        try
        {
            if (_started != 0 && _invoked && !takenOver)
            {
                bus.Metrics.RecordProcess(_queue, _messageType, _count, Stopwatch.GetElapsedTime(_started).TotalSeconds, _failure);
            }

            _activity?.Dispose();
        }
        catch (Exception exception)
        {
            // A MeterListener's or ActivityListener's callback threw: settling must not fail for it.
            Log.ObserverFailed(bus.Logger, exception, typeof(DeliveryObserver), nameof(End));
        }

        _activity = null;
        _failure = null;
    }
}
