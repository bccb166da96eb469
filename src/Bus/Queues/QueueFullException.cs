namespace Bus;

/// <summary>Thrown when a queue has no room for a message and may not wait: <see cref="QueueFullMode.Reject"/>, or a full overflow.</summary>
public sealed class QueueFullException : Exception
{
    /// <summary>Creates the exception.</summary>
    public QueueFullException()
        : this("The queue is full.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public QueueFullException(string message)
        : base(message)
    {
        Queue = string.Empty;
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public QueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
        Queue = string.Empty;
    }

    /// <summary>Creates the exception for a queue and message type.</summary>
    /// <param name="queue">The full queue.</param>
    /// <param name="messageType">The type of the message that did not fit.</param>
    /// <param name="message">The message.</param>
    public QueueFullException(string queue, Type messageType, string message)
        : base(message)
    {
        Queue = queue;
        MessageType = messageType;
    }

    /// <summary>Gets the name of the full queue.</summary>
    public string Queue { get; }

    /// <summary>Gets the type of the message that did not fit.</summary>
    public Type? MessageType { get; }
}
