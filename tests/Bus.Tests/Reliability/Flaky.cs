using System.Collections.Concurrent;
using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

/// <summary>A script for consumers: how many times each job fails before it succeeds, and what they saw.</summary>
public sealed class Script
{
    public ConcurrentDictionary<int, int> FailuresLeft { get; } = new();

    public ConcurrentQueue<(int Job, int Delivery, DateTimeOffset At)> Attempts { get; } = new();

    public ConcurrentDictionary<int, int> Consumed { get; } = new();

    public HashSet<int> Rejects { get; } = [];

    public bool Fixed { get; set; }

    private readonly ConcurrentDictionary<int, TaskCompletionSource> _consumedSignals = new();

    /// <summary>Completes once the job has been consumed.</summary>
    public Task WhenConsumedAsync(int job) => Signal(job).Task.WaitAsync(TestBus.Timeout);

    public void MarkConsumed(int job)
    {
        Consumed.AddOrUpdate(job, 1, (_, n) => n + 1);
        Signal(job).TrySetResult();
    }

    private TaskCompletionSource Signal(int job) =>
        _consumedSignals.GetOrAdd(job, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}

/// <summary>Fails each job as often as the script says (or always, until the script is fixed), then consumes it.</summary>
public sealed class FlakyConsumer(Script script, TimeProvider time) : IConsumer<Job>
{
    public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
    {
        var id = context.Message.Id;
        script.Attempts.Enqueue((id, context.DeliveryCount, time.GetUtcNow()));
        if (script.Rejects.Contains(id))
        {
            context.Reject("job is malformed");
            return default;
        }

        if (!script.Fixed && script.FailuresLeft.AddOrUpdate(id, -1, (_, left) => left - 1) >= 0)
        {
            throw new InvalidOperationException($"job {id} failed");
        }

        script.MarkConsumed(id);
        return default;
    }
}

/// <summary>A bus with one <see cref="FlakyConsumer"/> on queue "jobs".</summary>
internal static class FlakyBus
{
    public static Task<TestBus> StartAsync(IRetryPolicy policy, Action<QueueOptions>? queue = null) =>
        TestBus.StartAsync(
            b => b.AddConsumer<FlakyConsumer>(c =>
            {
                c.Queue = "jobs";
                c.RetryPolicy = policy;
                queue?.Invoke(c.QueueOptions);
            }),
            s => s.AddSingleton<Script>());
}
