namespace Bus;

/// <summary>How a retry policy's delay grows from one retry to the next.</summary>
public enum RetryBackoff
{
    /// <summary>The same delay before every retry.</summary>
    Constant,

    /// <summary>The delay times the retry number: 1×, 2×, 3×...</summary>
    Linear,

    /// <summary>The delay times <see cref="RetryPolicyOptions.Factor"/> to the power of the retry number less one.</summary>
    Exponential,
}
