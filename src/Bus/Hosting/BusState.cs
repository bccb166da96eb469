namespace Bus;

/// <summary>The lifecycle of a bus.</summary>
public enum BusState
{
    /// <summary>Configured, not started: publishes are refused.</summary>
    Created,

    /// <summary>Started: publishing and consuming.</summary>
    Running,

    /// <summary>
    /// Stop was requested: publishes from outside consumers are refused while queued and in-flight messages drain;
    /// consumers finishing their work may still publish.
    /// </summary>
    Stopping,

    /// <summary>Stopped: nothing is accepted or consumed. A stopped bus cannot be started again.</summary>
    Stopped,
}
