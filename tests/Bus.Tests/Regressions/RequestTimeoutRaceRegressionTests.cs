using System.Collections.Concurrent;
using System.Diagnostics;
using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

public sealed record Question(int Id);

public sealed record Answer(int Id);

/// <summary>
/// Issue 13, defect 9: a reply that lands just as the request times out gives the caller the reply or the documented
/// <see cref="RequestTimeoutException"/>, never the framework's plain <see cref="TimeoutException"/>.
/// </summary>
/// <remarks>
/// The system's clock on purpose: the race is between the request's own timer and a responder cued by that timer as it
/// fires, so nothing waits on the clock for work to finish.
/// </remarks>
public sealed class RequestTimeoutRaceRegressionTests
{
    private const int MaxRequests = 5_000;
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(2.5);

    /// <summary>The request timeout, short so that many requests fit in the budget.</summary>
    private static readonly TimeSpan CuedTimeout = TimeSpan.FromMilliseconds(1);

    /// <summary>
    /// The race, hit on purpose: the bus's clock (the system's, through <see cref="CueingClock"/>) cues the responder
    /// at the instant the request's timer fires, and the responder answers at once, so the reply lands while the
    /// requester is handling its timeout.
    /// </summary>
    [Fact]
    public async Task A_reply_landing_as_the_request_timer_fires_gives_the_reply_or_a_RequestTimeoutException_never_a_plain_TimeoutException()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<CuedResponder>(c => c.Lifetime = ConsumerLifetime.Singleton),
            s => s.AddSingleton(new CueingClock(CuedTimeout)).AddSingleton<TimeProvider>(provider => provider.GetRequiredService<CueingClock>()));
        var clock = bus.Get<CueingClock>();
        var outcomes = new Outcomes();
        var elapsed = Stopwatch.StartNew();

        for (var id = 1; id <= MaxRequests && elapsed.Elapsed < Budget; id++)
        {
            var cued = id;
            clock.OnNextFiring(() => clock.Cue(cued));
            await outcomes.RequestAsync(bus, id, CuedTimeout);
        }

        outcomes.ShouldAllBeReplyOrRequestTimeout();
    }

    /// <summary>Waits (spinning, to answer within a microsecond) for the clock's cue for its request, then answers.</summary>
    public sealed class CuedResponder(CueingClock clock) : IConsumer<Question>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Question> context, CancellationToken cancellationToken)
        {
            var id = context.Message.Id;
            var giveUp = Stopwatch.StartNew();

            // Bounded: if the bus no longer times requests out through a timer of exactly the timeout, no cue comes.
            while (clock.Cued < id && giveUp.Elapsed < TimeSpan.FromMilliseconds(50))
            {
                Thread.SpinWait(1);
            }

            // Answer a little later on some requests, to sweep the reply across the requester's handling of its timeout.
            Thread.SpinWait(id % 16 * 8);
            await context.RespondAsync(new Answer(id), CancellationToken.None);
        }
    }

    /// <summary>
    /// The system's clock, except that a timer of exactly <paramref name="watched"/> runs an action just before its own
    /// callback when it fires.
    /// </summary>
    public sealed class CueingClock(TimeSpan watched) : TimeProvider
    {
        private Action? _onNextFiring;
        private int _cued;

        /// <summary>Gets the highest request id cued.</summary>
        public int Cued => Volatile.Read(ref _cued);

        public void Cue(int id) => Volatile.Write(ref _cued, id);

        public void OnNextFiring(Action action) => Volatile.Write(ref _onNextFiring, action);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (dueTime != watched)
            {
                return base.CreateTimer(callback, state, dueTime, period);
            }

            return base.CreateTimer(
                s =>
                {
                    Interlocked.Exchange(ref _onNextFiring, null)?.Invoke();
                    callback(s);
                },
                state,
                dueTime,
                period);
        }
    }

    /// <summary>How requests ended: "reply", "RequestTimeoutException", or the type of anything else, with a sample.</summary>
    private sealed class Outcomes
    {
        private readonly ConcurrentDictionary<string, int> _counts = new(StringComparer.Ordinal);
        private readonly ConcurrentQueue<Exception> _others = new();

        public async Task RequestAsync(TestBus bus, int id, TimeSpan timeout)
        {
            string outcome;
            try
            {
                var answer = await bus.Publisher.RequestAsync<Question, Answer>(new Question(id), timeout).WaitAsync(TestBus.Timeout);
                outcome = answer.Id == id ? "reply" : "another request's reply";
            }
            catch (RequestTimeoutException)
            {
                outcome = nameof(RequestTimeoutException);
            }
            catch (Exception exception) when (exception is TimeoutException or RequestFaultException or InvalidOperationException)
            {
                outcome = exception.GetType().FullName!;
                _others.Enqueue(exception);
            }

            _counts.AddOrUpdate(outcome, 1, (_, n) => n + 1);
        }

        public void ShouldAllBeReplyOrRequestTimeout()
        {
            var summary = string.Join(", ", _counts.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}: {o.Value}"));
            TestContext.Current.TestOutputHelper?.WriteLine(summary);
            _counts.Keys.Should().BeSubsetOf(
                ["reply", nameof(RequestTimeoutException)],
                "a request ends with its reply or a RequestTimeoutException (outcomes: {0}; the first other: {1})",
                summary,
                _others.FirstOrDefault()?.ToString() ?? "none");
        }
    }
}
