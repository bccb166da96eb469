using System.Collections.Concurrent;

namespace Bus.Tests.Support;

/// <summary>What consumers saw: the message, its envelope and queue, in the order consumers finished.</summary>
public sealed class Recorder
{
    private readonly ConcurrentQueue<Received> _received = new();
    private readonly Lock _lock = new();
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyList<Received> All => [.. _received];

    public void Record<T>(ConsumeContext<T> context, string consumer)
    {
        _received.Enqueue(new Received(consumer, context.Queue, context.Message!, context.Envelope, context.ConsumerIndex));
        lock (_lock)
        {
            foreach (var waiter in _waiters.FindAll(w => w.Count <= _received.Count))
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> messages have been recorded.</summary>
    public Task WhenCountAsync(int count)
    {
        lock (_lock)
        {
            if (_received.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(TestBus.Timeout);
        }
    }

    public IReadOnlyList<T> Messages<T>() => [.. _received.Select(r => r.Message).OfType<T>()];

    public IReadOnlyList<T> Messages<T>(string consumer) =>
        [.. _received.Where(r => r.Consumer == consumer).Select(r => r.Message).OfType<T>()];

    public IReadOnlyList<Received> In(string queue) => [.. _received.Where(r => r.Queue == queue)];
}

public sealed record Received(string Consumer, string Queue, object Message, Envelope Envelope, int ConsumerIndex);
