namespace Bus;

/// <summary>
/// Thrown when the transport's broker cannot be reached: at the start, or by a publish that waited for the broker to
/// come back for as long as the transport allows (<c>RabbitMqOptions.PublishTimeout</c>). The message was not sent.
/// </summary>
public sealed class TransportUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TransportUnavailableException()
        : this("The transport's broker cannot be reached.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public TransportUnavailableException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and the error that made the broker unreachable.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The error.</param>
    public TransportUnavailableException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
