namespace Bus;

/// <summary>
/// Thrown by a consumer to reject a message it can never process (a poison message): the message goes straight to the
/// dead-letter store with reason <see cref="DeadLetterReason.Rejected"/>, without retries.
/// </summary>
public sealed class MessageRejectedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public MessageRejectedException()
        : this("The consumer rejected the message.")
    {
    }

    /// <summary>Creates the exception with the reason for the rejection.</summary>
    /// <param name="message">The reason.</param>
    public MessageRejectedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and the exception that caused it.</summary>
    /// <param name="message">The reason.</param>
    /// <param name="innerException">The cause.</param>
    public MessageRejectedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
