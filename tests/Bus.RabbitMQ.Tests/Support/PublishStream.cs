using System.Collections.Concurrent;
using System.Diagnostics;

namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// A stream of sends from several concurrent publishers, each message an <see cref="Order"/> with its own id, and what
/// came of each publish: completed (the broker confirmed it) or thrown, and how long it took. <see cref="Halfway"/> lets
/// a test break things in the middle of the stream; a stream started without a count runs until
/// <see cref="StopAfter"/> says how many more to send.
/// </summary>
public sealed class PublishStream(IMessageBus bus, string queue, int publishers, int breakAfter)
{
    private readonly ConcurrentDictionary<int, byte> _completed = new();
    private readonly ConcurrentDictionary<int, Exception> _failed = new();
    private readonly ConcurrentBag<TimeSpan> _durations = [];
    private readonly TaskCompletionSource _halfway = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _next;
    private int _limit = int.MaxValue;

    /// <summary>Completes once <c>breakAfter</c> publishes have completed.</summary>
    public Task Halfway => _halfway.Task.WaitAsync(BrokerVhost.Timeout);

    public IReadOnlyCollection<int> Completed => [.. _completed.Keys];

    public IReadOnlyDictionary<int, Exception> Failed => _failed;

    /// <summary>How many publishes were started.</summary>
    public int Attempted => Math.Min(Volatile.Read(ref _next), Volatile.Read(ref _limit));

    /// <summary>The longest a publish took: more than the recovery interval when one waited for the broker to come back.</summary>
    public TimeSpan LongestPublish => _durations.IsEmpty ? TimeSpan.Zero : _durations.Max();

    /// <summary>Publishes <paramref name="count"/> messages (or until <see cref="StopAfter"/>).</summary>
    public Task RunAsync(int count = int.MaxValue)
    {
        Volatile.Write(ref _limit, count);
        return Task.WhenAll(Enumerable.Range(0, publishers).Select(_ => Task.Run(PublishAsync)));
    }

    /// <summary>Ends the stream after <paramref name="more"/> more messages.</summary>
    public void StopAfter(int more) => Volatile.Write(ref _limit, Volatile.Read(ref _next) + more);

    private async Task PublishAsync()
    {
        int id;
        while ((id = Interlocked.Increment(ref _next)) <= Volatile.Read(ref _limit))
        {
            var started = Stopwatch.GetTimestamp();
            try
            {
                await bus.SendAsync(queue, new Order(id));
                _completed[id] = 0;
                if (_completed.Count >= breakAfter)
                {
                    _halfway.TrySetResult();
                }
            }
            catch (Exception exception)
            {
                _failed[id] = exception;
            }

            _durations.Add(Stopwatch.GetElapsedTime(started));
        }
    }
}
