namespace Bus;

/// <summary>What is kept of the exception that made a delivery fail: enough to diagnose, nothing that pins objects.</summary>
public sealed class ErrorInfo
{
    /// <summary>Creates the error information.</summary>
    /// <param name="type">The exception's type name.</param>
    /// <param name="message">The exception's message.</param>
    /// <param name="stackTrace">The exception's stack trace, inner exceptions included.</param>
    public ErrorInfo(string type, string message, string? stackTrace)
    {
        ArgumentNullException.ThrowIfNull(type);
        ArgumentNullException.ThrowIfNull(message);
        Type = type;
        Message = message;
        StackTrace = stackTrace;
    }

    /// <summary>Gets the exception's full type name.</summary>
    public string Type { get; }

    /// <summary>Gets the exception's message.</summary>
    public string Message { get; }

    /// <summary>Gets the exception's stack trace with its inner exceptions, or null when it was never thrown.</summary>
    public string? StackTrace { get; }

    /// <summary>Captures an exception.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>Its type, message and full text.</returns>
    public static ErrorInfo From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return new ErrorInfo(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.ToString());
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Type}: {Message}";
}
