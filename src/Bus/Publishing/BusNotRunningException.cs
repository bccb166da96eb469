namespace Bus;

/// <summary>Thrown when a message is published to a bus that is not running: not yet started, stopping or stopped.</summary>
public sealed class BusNotRunningException : InvalidOperationException
{
    /// <summary>Creates the exception.</summary>
    public BusNotRunningException()
        : this("The bus is not running.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public BusNotRunningException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The inner exception.</param>
    public BusNotRunningException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a message type and bus state.</summary>
    /// <param name="messageType">The type of the message that was refused.</param>
    /// <param name="state">The state of the bus.</param>
    public BusNotRunningException(Type messageType, BusState state)
        : base(CreateMessage(messageType, state))
    {
        MessageType = messageType;
        State = state;
    }

    /// <summary>Gets the type of the message that was refused.</summary>
    public Type? MessageType { get; }

    /// <summary>Gets the state the bus was in.</summary>
    public BusState State { get; }

    private static string CreateMessage(Type messageType, BusState state) => state switch
    {
        BusState.Created => $"Cannot publish {messageType}: the bus has not been started.",
        BusState.Stopping => $"Cannot publish {messageType}: the bus is stopping and accepts messages only from consumers finishing their work.",
        _ => $"Cannot publish {messageType}: the bus is stopped.",
    };
}
