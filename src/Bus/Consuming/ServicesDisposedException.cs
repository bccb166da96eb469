namespace Bus;

/// <summary>
/// The service container was disposed while the bus still ran, so a consumer could not be created for a message. The
/// bus reports such a message as unprocessed rather than as a failure of the consumer.
/// </summary>
internal sealed class ServicesDisposedException(ObjectDisposedException inner)
    : Exception("The service provider was disposed while the bus was running; the consumer could not be created. Stop the bus (or the host) before disposing it.", inner);
