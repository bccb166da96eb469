using System.Diagnostics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>
/// The publish path taken when something watches or shapes publishes: publish filters, a listener on the bus's
/// <see cref="ActivitySource"/>, or one on its publish instruments. Without any of them, publishes take the direct path
/// in <c>MessageBus.cs</c> and pay one check for all three.
/// </summary>
internal sealed partial class MessageBus
{
    private const string PublishOperation = "publish";
    private const string SendOperation = "send";

    /// <summary>Chains the publish filters once, at the start, so a filter may depend on the bus itself.</summary>
    private void BuildPublishPipeline()
    {
        if (_publishFilters.Length > 0)
        {
            _publishNeedsScope = FilterPipeline.NeedsScope(_publishFilters, typeof(IPublishFilter));
            _publishPipeline = FilterPipeline.Build(_publishFilters, FilterInstances, _publishTerminal);
        }
    }

    /// <summary>
    /// A publish with its span, its measurements and its filters: the span (a child of the caller's) is current for the
    /// filters, the context comes from a per-thread pool, and a scope is created only for scoped filters outside a
    /// consumer.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask PublishObservedAsync(
        object message,
        Type messageType,
        PublishOptions? options,
        string routingKey,
        string? queue,
        Guid? correlationId,
        ConsumerSlot? origin,
        PendingRequest? request,
        CancellationToken cancellationToken)
    {
        var operation = queue is null ? PublishOperation : SendOperation;
        var started = Metrics.ObservesPublish ? Stopwatch.GetTimestamp() : 0;
        var activity = BusDiagnostics.Source.HasListeners() ? BusTracing.StartPublish(operation) : null;
        var context = PublishContextPool.Rent();
        context.Initialize(message, messageType, options, routingKey, queue, correlationId, origin, request, cancellationToken);
        context.Activity = activity;
        Exception? failure = null;
        try
        {
            await RunPipelineAsync(context, origin).ConfigureAwait(false);
        }
        catch (Exception exception)
        {
            failure = exception;
            BusTracing.Fail(activity, exception);
            throw;
        }
        finally
        {
            if (started != 0)
            {
                Metrics.RecordPublish(operation, context.Destination ?? queue ?? context.Exchange ?? string.Empty, messageType, Stopwatch.GetElapsedTime(started).TotalSeconds, failure);
            }

            activity?.Dispose();
            PublishContextPool.Return(context);
        }
    }

    /// <summary>
    /// A scheduled publish through the publish filters: they see it when it is scheduled (so a filter that stamps a
    /// tenant stamps it), and the message is scheduled as they leave it.
    /// </summary>
    private async Task<Guid> ScheduleFilteredAsync(object message, Type messageType, DateTimeOffset deliverAt, PublishOptions? options, string routingKey, ConsumerSlot? origin, CancellationToken cancellationToken)
    {
        var context = PublishContextPool.Rent();
        context.Initialize(message, messageType, options, routingKey, null, null, origin, null, cancellationToken);
        context.DeliverAt = deliverAt;
        try
        {
            await RunPipelineAsync(context, origin).ConfigureAwait(false);

            // A filter that did not call next dropped the message: nothing was scheduled, and its id is still returned.
            return context.MessageId ?? Guid.Empty;
        }
        finally
        {
            PublishContextPool.Return(context);
        }
    }

    /// <summary>
    /// Runs the publish filters (or, without any, the terminal step) over a context, in the services its scoped filters
    /// need: the publishing consumer's DI scope when it has one (its root services are no scope), else a scope made for
    /// this publish, only when a scoped filter is registered.
    /// </summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask RunPipelineAsync(PublishContext context, ConsumerSlot? origin)
    {
        var pipeline = _publishPipeline ?? _publishTerminal;
        var consumerScope = origin?.CurrentServices is { } current && current != _services ? current : null;
        context.Services = consumerScope ?? _services;
        if (!_publishNeedsScope || consumerScope is not null)
        {
            await pipeline(context).ConfigureAwait(false);
            return;
        }

        var scope = _services.GetRequiredService<IServiceScopeFactory>().CreateAsyncScope();
        try
        {
            context.Services = scope.ServiceProvider;
            await pipeline(context).ConfigureAwait(false);
        }
        finally
        {
            await scope.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>The end of the publish pipeline: route what the filters left, stamp it with the trace context, enqueue.</summary>
    private ValueTask PublishFromContextAsync(PublishContext context)
    {
        if (context.DeliverAt is { } deliverAt)
        {
            ScheduleFromContext(context, deliverAt);
            return default;
        }

        context.SealRequest();
        var messageType = context.MessageType;
        var routingKey = context.RoutingKey;
        if (routingKey.Length > RoutingKeys.MaxLength)
        {
            ThrowHelper.ThrowRoutingKeyTooLong(routingKey);
        }

        var headers = context.TakeHeaders();
        BusQueue[] route;
        string exchangeName;
        string? spanName = null;
        Exchange? exchange = null;
        if (context.Queue is { } queue)
        {
            if (context.Exchange is not null)
            {
                ThrowHelper.ThrowExchangeWithQueue();
            }

            route = _broker is null ? _topology.GetQueueRoute(queue) : [];
            exchangeName = string.Empty;
            context.Destination = queue;
            spanName = context.Activity is null ? null : route.Length > 0 ? route[0].SendSpanName : $"{TelemetryTags.Send} {queue}";
        }
        else
        {
            exchange = context.Exchange is { } named ? _topology.GetExchange(named) : _topology.GetMessageExchange(messageType);
            route = _broker is null ? exchange.Route(new RoutingContext(messageType, routingKey, headers ?? MessageHeaders.Empty)) : [];
            exchangeName = exchange.Name;
            context.Destination = exchangeName;
            spanName = context.Activity is null ? null : exchange.PublishSpanName;
        }

        var now = Clock.UtcNow();
        var messageId = context.MessageId ??= MessageIdGenerator.Next(now);
        var envelope = new Envelope(
            context.Message,
            messageType,
            messageId,
            context.CorrelationId ?? context.Origin?.CurrentCorrelationId ?? messageId,
            now,
            exchangeName,
            routingKey,
            BusDiagnostics.Source.HasListeners() ? BusTracing.Inject(context.Activity, headers) : headers,
            deliveryCount: 1,
            context.TimeToLive,
            context.Priority);
        if (_broker is null && route.Length == 0)
        {
            return Unroutable(exchange!, envelope, context.Mandatory, context.Request is not null);
        }

        if (context.Activity is { } activity)
        {
            BusTracing.Published(activity, spanName!, context.IsSend ? SendOperation : PublishOperation, context.Destination, envelope);
        }

        if (_broker is not null)
        {
            return PublishToBroker(envelope, context.Queue, context.Mandatory, context.Request, context.CancellationToken);
        }

        context.Request?.Routed(route.Length);

        return Enqueue(route, envelope, context.Origin, context.Request, context.CancellationToken);
    }

    /// <summary>The end of a scheduled publish's pipeline: stamp the message as the filters left it, and schedule it.</summary>
    private void ScheduleFromContext(PublishContext context, DateTimeOffset deliverAt)
    {
        if (context.RoutingKey.Length > RoutingKeys.MaxLength)
        {
            ThrowHelper.ThrowRoutingKeyTooLong(context.RoutingKey);
        }

        var exchange = context.Exchange is { } named ? _topology.GetExchange(named) : _topology.GetMessageExchange(context.MessageType);
        var messageId = context.MessageId ??= MessageIdGenerator.Next(Clock.UtcNow());
        var envelope = new Envelope(
            context.Message,
            context.MessageType,
            messageId,
            context.CorrelationId ?? context.Origin?.CurrentCorrelationId ?? messageId,
            deliverAt,
            exchange.Name,
            context.RoutingKey,
            ScheduledHeaders(context.TakeHeaders()),
            deliveryCount: 1,
            context.TimeToLive,
            context.Priority);
        Schedule(exchange, envelope, deliverAt);
    }
}
