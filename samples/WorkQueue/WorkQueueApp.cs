using Bus;
using Microsoft.Extensions.DependencyInjection;

namespace WorkQueue;

/// <summary>
/// A work queue: thumbnail tasks spread over the queue's competing consumers (<see cref="QueueOptions.Concurrency"/>),
/// each taking up to <see cref="QueueOptions.PrefetchCount"/> tasks off the queue at once. Every task is done by exactly
/// one worker; the tally shows who did which.
/// </summary>
public static class WorkQueueApp
{
    public const string Queue = "thumbnails";
    public const int Workers = 4;
    public const int Prefetch = 2;
    public const int Tasks = 24;

    /// <summary>Registers the services; <paramref name="perMegapixel"/> is how long rendering takes (zero in tests).</summary>
    public static void AddServices(IServiceCollection services, TextWriter output, TimeSpan perMegapixel)
    {
        services.AddSingleton(new Journal(output));
        services.AddSingleton(new RenderCost(perMegapixel));
        services.AddSingleton<WorkerTally>();
    }

    public static void Configure(IMessageBusBuilder bus) => bus
        .AddQueue(Queue, q =>
        {
            q.Concurrency = Workers;     // four competing consumers
            q.PrefetchCount = Prefetch;  // each takes up to two tasks at a time, and renders them in order
        })
        .AddConsumer<ThumbnailWorker>(c =>
        {
            c.Queue = Queue;
            c.Lifetime = ConsumerLifetime.Singleton;
        });

    /// <summary>Sends the tasks, waits until they are done, and prints the tally.</summary>
    /// <param name="services">The services of a running bus configured with <see cref="Configure"/>.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>The tally.</returns>
    public static async Task<WorkQueueOutcome> RunAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var bus = services.GetRequiredService<IMessageBus>();
        var journal = services.GetRequiredService<Journal>();
        var tally = services.GetRequiredService<WorkerTally>();

        journal.Line($"Sending {Tasks} thumbnail tasks to \"{Queue}\" ({Workers} competing consumers, prefetch {Prefetch}):");
        for (var id = 1; id <= Tasks; id++)
        {
            await bus.SendAsync(Queue, new RenderThumbnail(id, Megapixels: 2 + (id * 7 % 5) * 2), cancellationToken);
        }

        await bus.WaitForIdleAsync(cancellationToken);

        var outcome = new WorkQueueOutcome(tally.Shares(), tally.MaxBusy, tally.RenderedTwice());
        foreach (var share in outcome.Shares)
        {
            journal.Line($"  worker {share.Number}: {share.Images.Count,2} tasks: {string.Join(", ", share.Images)}");
        }

        journal.Line($"(Prefetch {Prefetch}: a worker takes up to {Prefetch} tasks at once, so its tasks tend to come in runs of consecutive ids.)");
        journal.Line($"{outcome.Shares.Sum(s => s.Images.Count)} of {Tasks} tasks done by {outcome.Shares.Count} workers, "
            + $"at most {outcome.MaxBusy} at once, {outcome.RenderedTwice.Count} done twice: "
            + (outcome.IsAsExpected ? "as expected." : "NOT as expected."));
        return outcome;
    }
}

/// <summary>The tally of a run.</summary>
/// <param name="Shares">Each worker's share.</param>
/// <param name="MaxBusy">The most tasks rendered at the same moment.</param>
/// <param name="RenderedTwice">Images rendered more than once.</param>
public sealed record WorkQueueOutcome(IReadOnlyList<WorkerShare> Shares, int MaxBusy, IReadOnlyList<int> RenderedTwice)
{
    /// <summary>Gets whether every task was done once, by no more workers than the queue has, no more of them at once.</summary>
    public bool IsAsExpected =>
        Shares.SelectMany(s => s.Images).Order().SequenceEqual(Enumerable.Range(1, WorkQueueApp.Tasks))
        && RenderedTwice.Count == 0
        && Shares.Count is >= 1 and <= WorkQueueApp.Workers
        && MaxBusy <= WorkQueueApp.Workers;
}
