using Microsoft.Extensions.Logging;

namespace Bus;

/// <summary>The registered <see cref="IBusObserver"/>s, called in order, each shielded from the others' failures.</summary>
internal sealed class Observers(IBusObserver[] observers, ILogger logger)
{
    /// <summary>The observers to call, or null when there are none, so the hot path pays one null check.</summary>
    public static Observers? Create(IEnumerable<IBusObserver> observers, ILogger logger) =>
        observers.ToArray() is { Length: > 0 } all ? new Observers(all, logger) : null;

    public void Published(in Envelope envelope)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnPublished(envelope);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), nameof(IBusObserver.OnPublished));
            }
        }
    }

    public void Consumed(in Envelope envelope, string queue, Type consumerType)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnConsumed(envelope, queue, consumerType);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), nameof(IBusObserver.OnConsumed));
            }
        }
    }

    public void Faulted(in Envelope envelope, string queue, Exception failure)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnFaulted(envelope, queue, failure);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), nameof(IBusObserver.OnFaulted));
            }
        }
    }

    public void Retrying(in Envelope envelope, string queue, TimeSpan delay)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnRetrying(envelope, queue, delay);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), nameof(IBusObserver.OnRetrying));
            }
        }
    }

    public void DeadLettered(DeadLetter deadLetter)
    {
        foreach (var observer in observers)
        {
            try
            {
                observer.OnDeadLettered(deadLetter);
            }
            catch (Exception exception)
            {
                Log.ObserverFailed(logger, exception, observer.GetType(), nameof(IBusObserver.OnDeadLettered));
            }
        }
    }
}
