namespace Bus;

/// <summary>
/// Thrown to a requester when its request could not be answered: the consumer failed (after its retries), rejected
/// it, it expired, or the response had the wrong type. It carries the remote failure's type and message.
/// </summary>
public sealed class RequestFaultException : Exception
{
    /// <summary>Creates the exception.</summary>
    public RequestFaultException()
        : this("The request failed.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public RequestFaultException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public RequestFaultException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception from the dead letter the request ended as.</summary>
    /// <param name="requestType">The request type.</param>
    /// <param name="deadLetter">The dead letter.</param>
    public RequestFaultException(Type requestType, DeadLetter deadLetter)
        : base(CreateMessage(requestType, deadLetter))
    {
        ArgumentNullException.ThrowIfNull(deadLetter);
        RequestType = requestType;
        Reason = deadLetter.Reason;
        RemoteExceptionType = deadLetter.Error?.Type;
        RemoteMessage = deadLetter.Error?.Message ?? deadLetter.Description;
    }

    /// <summary>Gets the request type.</summary>
    public Type? RequestType { get; }

    /// <summary>Gets why the request was not answered.</summary>
    public DeadLetterReason? Reason { get; }

    /// <summary>Gets the full type name of the exception the consumer threw, if it threw.</summary>
    public string? RemoteExceptionType { get; }

    /// <summary>Gets the consumer's exception message, or the reason in words.</summary>
    public string? RemoteMessage { get; }

    private static string CreateMessage(Type requestType, DeadLetter deadLetter) => deadLetter.Error is { } error
        ? $"The request {requestType} failed in queue '{deadLetter.Queue}' ({deadLetter.Reason}): {error.Type}: {error.Message}"
        : $"The request {requestType} failed in queue '{deadLetter.Queue}' ({deadLetter.Reason}): {deadLetter.Description}";
}
