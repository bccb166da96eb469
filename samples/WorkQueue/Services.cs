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
/// Counts who did what: <see cref="ConsumeContext.ConsumerIndex"/> says which of the queue's competing consumers took a
/// task (not the thread, which changes after every await, nor the consumer instance, which one singleton shares).
/// </summary>
public sealed class WorkerTally
{
    private readonly Lock _lock = new();
    private readonly Dictionary<int, List<int>> _byWorker = [];
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

    public void Finished(int worker, int imageId)
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
        tally.Finished(context.ConsumerIndex, context.Message.ImageId);
    }
}
