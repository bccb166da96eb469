using System.Collections.Concurrent;
using Bus.Tests.Support;

namespace Bus.Tests.Filters;

/// <summary>What filters and consumers did, in the order they did it, shared by all of them.</summary>
public sealed class Trail
{
    private readonly Lock _lock = new();
    private readonly List<string> _steps = [];
    private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];

    public IReadOnlyList<string> Steps
    {
        get
        {
            lock (_lock)
            {
                return [.. _steps];
            }
        }
    }

    public void Add(string step)
    {
        lock (_lock)
        {
            _steps.Add(step);
            foreach (var waiter in _waiters.FindAll(w => w.Count <= _steps.Count))
            {
                waiter.Signal.TrySetResult();
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Completes once at least <paramref name="count"/> steps have been added.</summary>
    public Task WhenCountAsync(int count)
    {
        lock (_lock)
        {
            if (_steps.Count >= count)
            {
                return Task.CompletedTask;
            }

            var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((count, signal));
            return signal.Task.WaitAsync(TestBus.Timeout);
        }
    }
}

/// <summary>Counts instances created and calls made, for lifetime checks.</summary>
public sealed class InstanceCounter
{
    private int _created;
    private int _calls;

    public int Created => Volatile.Read(ref _created);

    public int Calls => Volatile.Read(ref _calls);

    public void Constructed() => Interlocked.Increment(ref _created);

    public void Called() => Interlocked.Increment(ref _calls);
}

/// <summary>A scoped service: a filter writes the tenant, the consumer reads it.</summary>
public sealed class TenantContext
{
    public string? Tenant { get; set; }
}

/// <summary>Which <see cref="TenantContext"/> instance each participant saw, per message id.</summary>
public sealed class TenantLog
{
    public ConcurrentDictionary<int, TenantContext> FilterSaw { get; } = new();

    public ConcurrentDictionary<int, (TenantContext Instance, string? Tenant)> ConsumerSaw { get; } = new();
}

/// <summary>Adds "name before" and "name after" around next.</summary>
public abstract class TrailFilter(Trail trail, string name) : IConsumeFilter
{
    public async ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        trail.Add($"{name} before");
        await next(context);
        trail.Add($"{name} after");
    }
}

public sealed class FirstBusFilter(Trail trail) : TrailFilter(trail, "bus 1");

public sealed class SecondBusFilter(Trail trail) : TrailFilter(trail, "bus 2");

public sealed class FirstQueueFilter(Trail trail) : TrailFilter(trail, "queue 1");

public sealed class SecondQueueFilter(Trail trail) : TrailFilter(trail, "queue 2");

public sealed class FirstConsumerFilter(Trail trail) : TrailFilter(trail, "consumer 1");

public sealed class SecondConsumerFilter(Trail trail) : TrailFilter(trail, "consumer 2");

/// <summary>Adds "consumer" to the trail.</summary>
public sealed class TrailConsumer(Trail trail) : IConsumer<Job>
{
    public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
    {
        trail.Add("consumer");
        return default;
    }
}

/// <summary>Never calls next.</summary>
public sealed class SwallowingFilter(Trail trail) : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        trail.Add($"swallowed {context.MessageId}");
        return default;
    }
}

/// <summary>Rejects every message without calling next.</summary>
public sealed class RejectingFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        context.Reject("tenant is unknown");
        return default;
    }
}

/// <summary>Throws before next, recording the delivery count of each attempt.</summary>
public sealed class ThrowingFilter(Trail trail) : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        trail.Add($"attempt {context.DeliveryCount}");
        throw new InvalidOperationException($"filter refused {context.MessageType.Name}");
    }
}

/// <summary>Writes the message's tenant header into the scoped <see cref="TenantContext"/>.</summary>
public sealed class TenantConsumeFilter(TenantContext tenant, TenantLog log) : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        tenant.Tenant = (string?)context.Headers["tenant"];
        log.FilterSaw[((Job)context.Envelope.Message).Id] = tenant;
        return next(context);
    }
}

/// <summary>Reads the scoped <see cref="TenantContext"/> the filter wrote.</summary>
public sealed class TenantReadingConsumer(TenantContext tenant, TenantLog log) : IConsumer<Job>
{
    public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
    {
        log.ConsumerSaw[context.Message.Id] = (tenant, tenant.Tenant);
        return default;
    }
}

/// <summary>Counts its instances (in the constructor) and its calls.</summary>
public sealed class CountingFilter : IConsumeFilter
{
    private readonly InstanceCounter _counter;

    public CountingFilter(InstanceCounter counter)
    {
        _counter = counter;
        counter.Constructed();
    }

    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        _counter.Called();
        return next(context);
    }
}

/// <summary>Records the queue of every message it sees.</summary>
public sealed class QueueMarkingFilter(Trail trail) : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        trail.Add(context.Queue);
        return next(context);
    }
}

/// <summary>
/// Only awaits next, synchronously when the rest of the pipeline completes synchronously. Written out by hand rather
/// than as an async method: this assembly is built in Debug, where the compiler makes every async state machine a
/// class, allocated per call even when it completes synchronously (72 bytes here), which would measure the test's
/// compiler settings rather than the bus.
/// </summary>
public sealed class PassThroughFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        var rest = next(context);
        if (rest.IsCompletedSuccessfully)
        {
            rest.GetAwaiter().GetResult();
            return default;
        }

        return AwaitAsync(rest);
    }

    private static async ValueTask AwaitAsync(ValueTask rest) => await rest;
}

/// <summary>Around each batch: the count before and after next.</summary>
public sealed class BatchTrailFilter(Trail trail) : IBatchConsumeFilter
{
    public async ValueTask ConsumeAsync(BatchConsumeContext context, BatchConsumeFilterDelegate next)
    {
        trail.Add($"before {context.Count} from {context.Queue}");
        await next(context);
        trail.Add($"after {context.Count}");
    }
}

/// <summary>Adds the ids of each batch to the trail.</summary>
public sealed class TrailBatchConsumer(Trail trail) : IBatchConsumer<Job>
{
    public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
    {
        trail.Add($"batch {string.Join(",", batch.Select(j => j.Id))}");
        return default;
    }
}

/// <summary>Not a filter at all.</summary>
public sealed class NotAFilter;

/// <summary>Stamps a tenant header on every publish.</summary>
public sealed class TenantStampingPublishFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        context.Headers["tenant"] = "acme";
        return next(context);
    }
}

/// <summary>Never calls next: every publish is dropped.</summary>
public sealed class DroppingPublishFilter(Trail trail) : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        trail.Add($"dropped {context.MessageType.Name}");
        return default;
    }
}

/// <summary>Sends what was published with routing key "us" to "eu" instead.</summary>
public sealed class RegionRewritingPublishFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        if (context.RoutingKey == "us")
        {
            context.RoutingKey = "eu";
        }

        return next(context);
    }
}

/// <summary>Throws on every publish, and keeps what it threw.</summary>
public sealed class RefusingPublishFilter : IPublishFilter
{
    public Exception? Thrown { get; private set; }

    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        Thrown = new InvalidOperationException("no tenant on this publish");
        throw Thrown;
    }
}

/// <summary>Stamps the scoped <see cref="TenantContext"/>'s tenant on each publish, recording the instance it got.</summary>
public sealed class TenantPublishFilter(TenantContext tenant, TenantLog log) : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        if (context.Message is OrderPlaced order)
        {
            context.Headers["tenant"] = tenant.Tenant;
            log.FilterSaw[order.Id] = tenant;
        }

        return next(context);
    }
}

/// <summary>Sets the scoped tenant, then publishes an <see cref="OrderPlaced"/> for the job.</summary>
public sealed class TenantForwardingConsumer(TenantContext tenant, TenantLog log) : IConsumer<Job>
{
    public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken)
    {
        tenant.Tenant = $"tenant-{context.Message.Id}";
        log.ConsumerSaw[context.Message.Id] = (tenant, tenant.Tenant);
        await context.PublishAsync(new OrderPlaced(context.Message.Id), cancellationToken);
    }
}

/// <summary>Puts every publish into one conversation.</summary>
public sealed class ConversationPublishFilter : IPublishFilter
{
    public static readonly Guid Conversation = new("6f1c2a9e-0000-4000-8000-000000000001");

    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        context.CorrelationId = Conversation;
        return next(context);
    }
}

/// <summary>Adds a header value headers cannot carry.</summary>
public sealed class InvalidHeaderPublishFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next)
    {
        context.Headers["payload"] = new object();
        return next(context);
    }
}

/// <summary>Calls next, then throws: the consumer has run, the delivery still fails.</summary>
public sealed class ThrowingAfterNextFilter(Trail trail) : IConsumeFilter
{
    public async ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        await next(context);
        trail.Add($"after attempt {context.DeliveryCount}");
        throw new InvalidOperationException("audit failed");
    }
}

/// <summary>Both kinds of consume filter in one class.</summary>
public sealed class DualFilter(Trail trail) : IConsumeFilter, IBatchConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next)
    {
        trail.Add($"message from {context.Queue}");
        return next(context);
    }

    public ValueTask ConsumeAsync(BatchConsumeContext context, BatchConsumeFilterDelegate next)
    {
        trail.Add($"batch of {context.Count} from {context.Queue}");
        return next(context);
    }
}
