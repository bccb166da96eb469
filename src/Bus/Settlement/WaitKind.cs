namespace Bus;

/// <summary>Why an accepted message waits for the clock instead of being ready for a consumer.</summary>
internal enum WaitKind
{
    /// <summary>A delayed retry, or a scheduled publish not yet due.</summary>
    Schedule,

    /// <summary>Held in a batch until its window passes.</summary>
    BatchWindow,
}
