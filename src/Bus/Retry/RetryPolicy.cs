namespace Bus;

/// <summary>
/// The built-in retry policy: how many retries, the delay before each, and which exceptions are retried. Immutable:
/// built once from <see cref="RetryPolicyOptions"/> (<see cref="Create"/>) or a shortcut (<see cref="Immediate"/>,
/// <see cref="Interval"/>, <see cref="Intervals"/>, <see cref="Exponential"/>), and narrowed with filters that return
/// a new policy: <c>RetryPolicy.Exponential(5, TimeSpan.FromSeconds(1)).Ignore&lt;ArgumentException&gt;()</c>.
/// </summary>
/// <remarks>
/// Filters: with <see cref="Handle{TException}"/> or <see cref="When"/> only matching exceptions are retried;
/// exceptions named by <see cref="Ignore{TException}"/> are never retried (they win over the others). An exception that
/// is not retried is dead-lettered at once with <see cref="DeadLetterReason.NotRetryable"/>; when the retries run out
/// the reason is <see cref="DeadLetterReason.MaxRetriesExceeded"/>, and with no retries at all
/// (<see cref="None"/>, the default) it is <see cref="DeadLetterReason.Failed"/>. A policy is safe to share between
/// queues and threads.
/// </remarks>
public sealed class RetryPolicy : IRetryPolicy
{
    private readonly Func<int, TimeSpan> _delayBefore;
    private readonly double _jitter;
    private readonly TimeSpan _cap;
    private readonly Func<double> _randomizer;
    private readonly Type[] _handled;
    private readonly Type[] _ignored;
    private readonly Func<Exception, bool>[] _predicates;

    private RetryPolicy(int retries, Func<int, TimeSpan> delayBefore, double jitter, TimeSpan cap, Func<double>? randomizer, Type[] handled, Type[] ignored, Func<Exception, bool>[] predicates)
    {
        Retries = retries;
        _delayBefore = delayBefore;
        _jitter = jitter;
        _cap = cap;
        _randomizer = randomizer ?? Random.Shared.NextDouble;
        _handled = handled;
        _ignored = ignored;
        _predicates = predicates;
    }

    /// <summary>Gets how many times a message is retried after its first delivery fails.</summary>
    public int Retries { get; }

    /// <summary>Gets a policy that never retries: a failure is dead-lettered at once, with <see cref="DeadLetterReason.Failed"/>.</summary>
    public static RetryPolicy None { get; } = Fixed(0, _ => TimeSpan.Zero);

    /// <summary>Builds a policy from options, checking them once.</summary>
    /// <param name="options">The options; copied, so later changes to them do not change the policy.</param>
    /// <returns>The policy.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the message names it.</exception>
    public static RetryPolicy Create(RetryPolicyOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegative(options.MaxRetries, $"{nameof(options)}.{nameof(RetryPolicyOptions.MaxRetries)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Delay, TimeSpan.Zero, $"{nameof(options)}.{nameof(RetryPolicyOptions.Delay)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Factor, 1, $"{nameof(options)}.{nameof(RetryPolicyOptions.Factor)}");
        ArgumentOutOfRangeException.ThrowIfLessThan(options.Jitter, 0, $"{nameof(options)}.{nameof(RetryPolicyOptions.Jitter)}");
        ArgumentOutOfRangeException.ThrowIfGreaterThan(options.Jitter, 1, $"{nameof(options)}.{nameof(RetryPolicyOptions.Jitter)}");
        if (options.MaxDelay is { } maxDelay)
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(maxDelay, TimeSpan.Zero, $"{nameof(options)}.{nameof(RetryPolicyOptions.MaxDelay)}");
        }

        if (!Enum.IsDefined(options.Backoff))
        {
            throw new ArgumentOutOfRangeException($"{nameof(options)}.{nameof(RetryPolicyOptions.Backoff)}", options.Backoff, $"{options.Backoff} is not a {nameof(RetryBackoff)}.");
        }

        var delay = options.Delay;
        var factor = options.Factor;
        Func<int, TimeSpan> delayBefore = options.Backoff switch
        {
            RetryBackoff.Linear => retry => Multiply(delay, retry),
            RetryBackoff.Exponential => retry => Multiply(delay, Math.Pow(factor, retry - 1)),
            _ => _ => delay,
        };
        Func<Exception, bool>[] predicates = options.ShouldRetry is { } shouldRetry ? [shouldRetry] : [];
        return new RetryPolicy(options.MaxRetries, delayBefore, options.Jitter, options.MaxDelay ?? TimeSpan.MaxValue, options.Randomizer, [], [], predicates);
    }

    /// <summary>Retries at once, on the same consumer, up to <paramref name="retries"/> times.</summary>
    /// <param name="retries">How many retries.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Immediate(int retries) => Create(new RetryPolicyOptions { MaxRetries = retries, Delay = TimeSpan.Zero });

    /// <summary>Retries up to <paramref name="retries"/> times, each after the same delay.</summary>
    /// <param name="retries">How many retries.</param>
    /// <param name="interval">The delay before each retry.</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Interval(int retries, TimeSpan interval) => Create(new RetryPolicyOptions { MaxRetries = retries, Delay = interval });

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
        return Fixed(copy.Length, retry => copy[retry - 1]);
    }

    /// <summary>
    /// Retries up to <paramref name="retries"/> times with exponential backoff: <paramref name="initial"/>, then times
    /// <paramref name="factor"/> each retry, capped at <paramref name="maxDelay"/>, each delay moved at random by up to
    /// <paramref name="jitter"/> of itself so that failures at the same moment do not retry in lockstep. For a jitter
    /// source of your own (tests), use <see cref="Create"/> with <see cref="RetryPolicyOptions.Randomizer"/>.
    /// </summary>
    /// <param name="retries">How many retries.</param>
    /// <param name="initial">The first delay.</param>
    /// <param name="factor">The growth per retry (at least 1).</param>
    /// <param name="maxDelay">The longest delay; null for no cap.</param>
    /// <param name="jitter">The random spread, from 0 (none) to 1 (up to ±100%).</param>
    /// <returns>The policy.</returns>
    public static RetryPolicy Exponential(int retries, TimeSpan initial, double factor = 2, TimeSpan? maxDelay = null, double jitter = 0) =>
        Create(new RetryPolicyOptions
        {
            MaxRetries = retries,
            Backoff = RetryBackoff.Exponential,
            Delay = initial,
            Factor = factor,
            MaxDelay = maxDelay,
            Jitter = jitter,
        });

    /// <summary>A copy of this policy that retries only exceptions of this type (or derived), besides others named by <see cref="Handle{TException}"/> or <see cref="When"/>.</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <returns>The new policy; this one is unchanged.</returns>
    public RetryPolicy Handle<TException>()
        where TException : Exception =>
        new(Retries, _delayBefore, _jitter, _cap, _randomizer, [.. _handled, typeof(TException)], _ignored, _predicates);

    /// <summary>A copy of this policy that never retries exceptions of this type (or derived).</summary>
    /// <typeparam name="TException">The exception type.</typeparam>
    /// <returns>The new policy; this one is unchanged.</returns>
    public RetryPolicy Ignore<TException>()
        where TException : Exception =>
        new(Retries, _delayBefore, _jitter, _cap, _randomizer, _handled, [.. _ignored, typeof(TException)], _predicates);

    /// <summary>A copy of this policy that also retries exceptions the predicate accepts.</summary>
    /// <param name="predicate">Decides per exception.</param>
    /// <returns>The new policy; this one is unchanged.</returns>
    public RetryPolicy When(Func<Exception, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new(Retries, _delayBefore, _jitter, _cap, _randomizer, _handled, _ignored, [.. _predicates, predicate]);
    }

    /// <summary>Whether the filters let an exception be retried.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns><see langword="true"/> when it may be retried.</returns>
    public bool IsRetryable(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var type = exception.GetType();
        foreach (var ignored in _ignored)
        {
            if (ignored.IsAssignableFrom(type))
            {
                return false;
            }
        }

        if (_handled.Length == 0 && _predicates.Length == 0)
        {
            return true;
        }

        foreach (var handled in _handled)
        {
            if (handled.IsAssignableFrom(type))
            {
                return true;
            }
        }

        foreach (var predicate in _predicates)
        {
            if (predicate(exception))
            {
                return true;
            }
        }

        return false;
    }

    /// <inheritdoc/>
    public RetryDecision Decide(in RetryContext context)
    {
        if (Retries == 0)
        {
            return RetryDecision.GiveUp(DeadLetterReason.Failed);
        }

        if (!IsRetryable(context.Exception))
        {
            return RetryDecision.GiveUp(DeadLetterReason.NotRetryable);
        }

        var retry = context.Attempt;
        return retry > Retries ? RetryDecision.GiveUp() : RetryDecision.After(DelayBefore(retry));
    }

    private static RetryPolicy Fixed(int retries, Func<int, TimeSpan> delayBefore) =>
        new(retries, delayBefore, 0, TimeSpan.MaxValue, null, [], [], []);

    private static TimeSpan Multiply(TimeSpan delay, double times) =>
        TimeSpan.FromTicks((long)Math.Min(delay.Ticks * times, TimeSpan.MaxValue.Ticks));

    private TimeSpan DelayBefore(int retry)
    {
        double ticks = Math.Min(_delayBefore(retry).Ticks, _cap.Ticks);
        if (_jitter > 0)
        {
            ticks *= 1 + (_jitter * ((_randomizer() * 2) - 1));
        }

        return TimeSpan.FromTicks((long)Math.Clamp(ticks, 0, _cap.Ticks));
    }
}
