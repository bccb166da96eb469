using Bus;

namespace WorkQueue;

/// <summary>Writes what happens, one line per event.</summary>
public sealed class Journal(TextWriter output)
{
    private readonly Lock _lock = new();

    public void Line(string text = "")
    {
        lock (_lock)
        {
            output.WriteLine(text);
        }
    }
}

/// <summary>How long rendering takes: <see cref="PerMegapixel"/> per megapixel; zero only yields (tests use that).</summary>
public sealed class RenderCost(TimeSpan perMegapixel)
{
    public TimeSpan PerMegapixel { get; } = perMegapixel;

    public Task RenderAsync(RenderThumbnail task, CancellationToken cancellationToken) =>
        PerMegapixel == TimeSpan.Zero ? YieldAsync() : Task.Delay(PerMegapixel * task.Megapixels, cancellationToken);

    private static async Task YieldAsync() => await Task.Yield();
}

/// <summary>One competing consumer's share of the work.</summary>
/// <param name="Number">The worker's number, in the order the workers took their first task.</param>
/// <param name="Images">The images it rendered, in the order it rendered them.</param>
public sealed record WorkerShare(int Number, IReadOnlyList<int> Images);

/// <summary>
/// Counts who did what. Bus does not give a consumer a worker id, so the tally needs a truthful stand-in:
/// <list type="bullet">
/// <item>Not the thread: after an await a consumer continues on whatever pool thread is free, so one worker shows up under
/// many thread ids, and two workers under one.</item>
/// <item>Not the consumer instance: a singleton is shared by all workers, and a scoped consumer is new for every message.</item>
/// <item>The <see cref="ConsumeContext"/> object: each of the queue's competing consumers keeps one context and reuses it
/// for every message it takes (README, "Messages and envelopes": the context is reused so consuming allocates nothing).
/// So the identity of the context a message arrives with tells which of the queue's consumers took it.</item>
/// </list>
/// If Bus ever handed out a new context per message, the tally would show more workers than the queue's concurrency,
/// and the sample (and its test) would fail rather than print a wrong story.
/// </summary>
public sealed class WorkerTally
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ConsumeContext, List<int>> _byWorker = new(ReferenceEqualityComparer.Instance);
    private readonly List<List<int>> _inOrderOfFirstTask = [];
    private readonly Dictionary<int, int> _timesRendered = [];
    private int _busy;
    private int _maxBusy;

    /// <summary>Gets the most tasks that were being rendered at the same moment.</summary>
    public int MaxBusy => Volatile.Read(ref _maxBusy);

    public void Started()
    {
        var busy = Interlocked.Increment(ref _busy);
        int max;
        while (busy > (max = Volatile.Read(ref _maxBusy)) && Interlocked.CompareExchange(ref _maxBusy, busy, max) != max)
        {
        }
    }

    public void Finished(ConsumeContext worker, int imageId)
    {
        Interlocked.Decrement(ref _busy);
        lock (_lock)
        {
            if (!_byWorker.TryGetValue(worker, out var images))
            {
                images = [];
                _byWorker.Add(worker, images);
                _inOrderOfFirstTask.Add(images);
            }

            images.Add(imageId);
            _timesRendered[imageId] = _timesRendered.GetValueOrDefault(imageId) + 1;
        }
    }

    public IReadOnlyList<WorkerShare> Shares()
    {
        lock (_lock)
        {
            return [.. _inOrderOfFirstTask.Select((images, i) => new WorkerShare(i + 1, [.. images]))];
        }
    }

    /// <summary>Gets the images rendered more than once (none, when each task went to exactly one worker).</summary>
    public IReadOnlyList<int> RenderedTwice()
    {
        lock (_lock)
        {
            return [.. _timesRendered.Where(p => p.Value > 1).Select(p => p.Key)];
        }
    }
}

/// <summary>Renders thumbnails. A singleton, called by the queue's competing consumers at once.</summary>
public sealed class ThumbnailWorker(RenderCost cost, WorkerTally tally) : IConsumer<RenderThumbnail>
{
    public async ValueTask ConsumeAsync(ConsumeContext<RenderThumbnail> context, CancellationToken cancellationToken)
    {
        tally.Started();
        await cost.RenderAsync(context.Message, cancellationToken);
        tally.Finished(context, context.Message.ImageId);
    }
}
