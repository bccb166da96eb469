namespace Bus;

/// <summary>Thrown when no response to a request arrives within its timeout.</summary>
public sealed class RequestTimeoutException : TimeoutException
{
    /// <summary>Creates the exception.</summary>
    public RequestTimeoutException()
        : this("The request timed out.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public RequestTimeoutException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public RequestTimeoutException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a request type and timeout.</summary>
    /// <param name="requestType">The request type.</param>
    /// <param name="timeout">The timeout that ran out.</param>
    public RequestTimeoutException(Type requestType, TimeSpan timeout)
        : base($"No response to {requestType} arrived within {timeout}.")
    {
        RequestType = requestType;
        Timeout = timeout;
    }

    /// <summary>Gets the request type.</summary>
    public Type? RequestType { get; }

    /// <summary>Gets the timeout that ran out.</summary>
    public TimeSpan Timeout { get; }
}
