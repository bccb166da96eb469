using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>The registered <see cref="IBusObserver"/>s, called in order, each shielded from the others' failures.</summary>
internal sealed class Observers(IBusObserver[] observers, ILogger logger)
{
    /// <summary>The observers to call, or null when there are none, so the hot path pays one null check.</summary>
    public static Observers? Create(IEnumerable<IBusObserver> observers, ILogger logger) =>
        observers.ToArray() is { Length: > 0 } all ? new Observers(all, logger) : null;

    public void Published(in Envelope envelope) =>
        Each(envelope, static (observer, e) => observer.OnPublished(e), nameof(IBusObserver.OnPublished));

    public void Consumed(in Envelope envelope, string queue, Type consumerType) =>
        Each((envelope, queue, consumerType), static (observer, e) => observer.OnConsumed(e.envelope, e.queue, e.consumerType), nameof(IBusObserver.OnConsumed));

    public void Faulted(in Envelope envelope, string queue, Exception failure) =>
        Each((envelope, queue, failure), static (observer, e) => observer.OnFaulted(e.envelope, e.queue, e.failure), nameof(IBusObserver.OnFaulted));

    public void Retrying(in Envelope envelope, string queue, TimeSpan delay) =>
        Each((envelope, queue, delay), static (observer, e) => observer.OnRetrying(e.envelope, e.queue, e.delay), nameof(IBusObserver.OnRetrying));

    public void Unroutable(in Envelope envelope) =>
        Each(envelope, static (observer, e) => observer.OnUnroutable(e), nameof(IBusObserver.OnUnroutable));

    public void DeadLettered(DeadLetter deadLetter) =>
        Each(deadLetter, static (observer, d) => observer.OnDeadLettered(d), nameof(IBusObserver.OnDeadLettered));

    private void Each<TEvent>(TEvent happened, Action<IBusObserver, TEvent> notify, string method)
    {
        foreach (var observer in observers)
        {
            try
            {
                notify(observer, happened);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), method);
            }
        }
    }
}
