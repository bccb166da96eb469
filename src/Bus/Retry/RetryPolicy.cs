namespace Bus;

/// <summary>
/// The built-in retry policies, with exception filters: <c>RetryPolicy.Exponential(5, TimeSpan.FromSeconds(1)).Ignore&lt;ArgumentException&gt;()</c>.
/// </summary>
/// <remarks>
/// Filters: with <see cref="Handle{TException}"/> or <see cref="When"/> only matching exceptions are retried;
/// exceptions named by <see cref="Ignore{TException}"/> are never retried (they win over the others). An exception that
/// is not retried is dead-lettered at once with <see cref="DeadLetterReason.NotRetryable"/>; when the retries run out
/// the reason is <see cref="DeadLetterReason.MaxRetriesExceeded"/>. Configure filters while configuring the bus; a
/// policy is read concurrently afterwards.
/// </remarks>
public sealed class RetryPolicy : IRetryPolicy
{
    private readonly List<Type> _handled = [];
    private readonly List<Type> _ignored = [];
    private readonly List<Func<Exception, bool>> _predicates = [];
    private readonly Func<int, TimeSpan> _delayBefore;

    private RetryPolicy(int retries, Func<int, TimeSpan> delayBefore)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        Retries = retries;
        _delayBefore = delayBefore;
    }

    /// <summary>Gets how many times a message is retried after its first delivery fails.</summary>
    public int Retries { get; }

    /// <summary>Gets a policy that never retries: a failure is dead-lettered at once.</summary>
    public static RetryPolicy None => new RetryPolicy(0, _ => TimeSpan.Zero);

    /// <summary>Retries at once, on the same worker, up to <paramref name="retries"/> times.</summary>
    /// <param name="retries">How many retries.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Immediate(int retries) => new RetryPolicy(retries, _ => TimeSpan.Zero);

    /// <summary>Retries up to <paramref name="retries"/> times, each after the same delay.</summary>
    /// <param name="retries">How many retries.</param>
    /// <param name="interval">The delay before each retry.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Interval(int retries, TimeSpan interval)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero);
        return new RetryPolicy(retries, _ => interval);
    }

    /// <summary>Retries once per interval given, waiting that interval before each retry.</summary>
    /// <param name="intervals">The delays, in order.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Intervals(params TimeSpan[] intervals)
    {
        ArgumentNullException.ThrowIfNull(intervals);
        foreach (var interval in intervals)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(interval, TimeSpan.Zero, nameof(intervals));
        }

        TimeSpan[] copy = [.. intervals];
        return new RetryPolicy(copy.Length, retry => copy[retry - 1]);
    }

    /// <summary>
    /// Retries up to <paramref name="retries"/> times with exponential backoff: <paramref name="initial"/>, then times
    /// <paramref name="factor"/> each retry, capped at <paramref name="maxDelay"/>, each delay moved at random by up to
    /// <paramref name="jitter"/> of itself so that failures at the same moment do not retry in lockstep.
    /// </summary>
    /// <param name="retries">How many retries.</param>
    /// <param name="initial">The first delay.</param>
    /// <param name="factor">The growth per retry (at least 1).</param>
    /// <param name="maxDelay">The longest delay; null for no cap.</param>
    /// <param name="jitter">The random spread, from 0 (none) to 1 (up to ±100%).</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Exponential(int retries, TimeSpan initial, double factor = 2, TimeSpan? maxDelay = null, double jitter = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(initial, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(jitter, 0);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(jitter, 1);
        var cap = maxDelay ?? TimeSpan.MaxValue;
        return new RetryPolicy(retries, retry =>
        {
            var ticks = Math.Min(initial.Ticks * Math.Pow(factor, retry - 1), cap.Ticks);
            if (jitter > 0)
            {
                ticks *= 1 + (jitter * ((Random.Shared.NextDouble() * 2) - 1));
            }

            return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, cap.Ticks));
        });
    }

    /// <summary>Retries only exceptions of this type (or derived), besides any others named by <see cref="Handle{TException}"/> or <see cref="When"/>.</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <returns>This policy.</returns>
    public RetryPolicy Handle<TException>()
        where TException : Exception
    {
        _handled.Add(typeof(TException));
        return this;
    }

    /// <summary>Never retries exceptions of this type (or derived).</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <returns>This policy.</returns>
    public RetryPolicy Ignore<TException>()
        where TException : Exception
    {
        _ignored.Add(typeof(TException));
        return this;
    }

    /// <summary>Retries exceptions the predicate accepts, besides any named by <see cref="Handle{TException}"/>.</summary>
    /// <param name="predicate">Decides per exception.</param>
    /// <returns>This policy.</returns>
    public RetryPolicy When(Func<Exception, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        _predicates.Add(predicate);
        return this;
    }

    /// <summary>Whether the filters let an exception be retried.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns><see langword="true"/> when it may be retried.</returns>
    public bool IsRetryable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var type = exception.GetType();
        if (_ignored.Exists(ignored => ignored.IsAssignableFrom(type)))
        {
            return false;
        }

        return (_handled.Count == 0 && _predicates.Count == 0)
            || _handled.Exists(handled => handled.IsAssignableFrom(type))
            || _predicates.Exists(predicate => predicate(exception));
    }

    /// <inheritdoc/>
    public RetryDecision Decide(in RetryContext context)
    {
        if (!IsRetryable(context.Exception))
        {
            return RetryDecision.GiveUp(DeadLetterReason.NotRetryable);
        }

        var retry = context.Attempt;
        return retry > Retries ? RetryDecision.GiveUp() : RetryDecision.After(_delayBefore(retry));
    }
}
