using System.Diagnostics;

namespace Bus;

/// <summary>
/// The bus's spans, after OpenTelemetry's messaging conventions: a producer span per publish or send, a consumer span
/// per delivery (per batch for batch consumers). The W3C trace context travels in the message's headers
/// (<c>traceparent</c>, <c>tracestate</c>, <c>baggage</c>), so a consumer's span is a child of the publish that sent
/// its message, across retries, dead letters and replays. Every method here is called only while the source has
/// listeners, and tags are set only on spans a sampler records; with AddTag, since a new span never repeats a key
/// (SetTag would search the tags for it first, a measurable share of a traced message's cost).
/// </summary>
internal static class BusTracing
{
    private static readonly DistributedContextPropagator.PropagatorGetterCallback s_getter = GetHeader;

    // The propagator writes its fields here first: one spare list per thread.
    [ThreadStatic]
    private static List<KeyValuePair<string, object?>>? t_fields;

    /// <summary>Starts a publish or send span, a child of the caller's current span; null when not sampled.</summary>
    public static Activity? StartPublish(string operation) =>
        BusDiagnostics.Source.StartActivity(operation, ActivityKind.Producer);

    /// <summary>Starts the span of a request, which lasts until its response; null when not sampled.</summary>
    public static Activity? StartRequest(Type requestType, Guid requestId)
    {
        var activity = BusDiagnostics.Source.StartActivity("request", ActivityKind.Client);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = $"request {requestType.Name}";
            activity.AddTag(TelemetryTags.System, BusDiagnostics.MessagingSystem);
            activity.AddTag(TelemetryTags.OperationType, TelemetryTags.Send);
            activity.AddTag(TelemetryTags.OperationName, "request");
            activity.AddTag(TelemetryTags.MessageId, requestId.ToString());
            activity.AddTag(TelemetryTags.MessageType, BusMetrics.MessageTypeName(requestType));
        }

        return activity;
    }

    /// <summary>Names and tags a publish span once the message is stamped and its destination known.</summary>
    public static void Published(Activity activity, string displayName, string operation, string destination, in Envelope envelope)
    {
        activity.DisplayName = displayName;
        if (!activity.IsAllDataRequested)
        {
            return;
        }

        activity.AddTag(TelemetryTags.System, BusDiagnostics.MessagingSystem);
        activity.AddTag(TelemetryTags.OperationType, TelemetryTags.Send);
        activity.AddTag(TelemetryTags.OperationName, operation);
        activity.AddTag(TelemetryTags.Destination, destination);
        activity.AddTag(TelemetryTags.MessageId, envelope.MessageId.ToString());
        activity.AddTag(TelemetryTags.ConversationId, envelope.CorrelationId.ToString());
        activity.AddTag(TelemetryTags.MessageType, BusMetrics.MessageTypeName(envelope.MessageType));
        if (envelope.RoutingKey.Length > 0)
        {
            activity.AddTag(TelemetryTags.RoutingKey, envelope.RoutingKey);
        }
    }

    /// <summary>
    /// The headers with the span's trace context added (through the configured <see cref="DistributedContextPropagator"/>),
    /// for the consumers' spans to continue the trace; one new header array, however many fields the propagator writes.
    /// </summary>
    public static IReadOnlyDictionary<string, object?>? Inject(Activity? activity, IReadOnlyDictionary<string, object?>? headers)
    {
        activity ??= Activity.Current;
        if (activity is null)
        {
            return headers;
        }

        // Taken from the thread while in use: a propagator that publishes gets a list of its own.
        var fields = t_fields ?? new List<KeyValuePair<string, object?>>(3);
        t_fields = null;
        try
        {
            DistributedContextPropagator.Current.Inject(activity, fields, static (carrier, name, value) =>
                ((List<KeyValuePair<string, object?>>)carrier!).Add(new(name, value)));
            return MessageHeaders.WithAll(headers, fields);
        }
        finally
        {
            fields.Clear();
            t_fields = fields;
        }
    }

    /// <summary>Starts the span of one delivery to a consumer, a child of the publish that sent the message.</summary>
    public static Activity? StartProcess(BusQueue queue, in Envelope envelope, Type? consumerType)
    {
        var activity = BusDiagnostics.Source.StartActivity(queue.ProcessSpanName, ActivityKind.Consumer, Extract(envelope.Headers));
        if (activity is { IsAllDataRequested: true })
        {
            TagProcess(activity, queue.Name, consumerType);
            activity.AddTag(TelemetryTags.MessageId, envelope.MessageId.ToString());
            activity.AddTag(TelemetryTags.ConversationId, envelope.CorrelationId.ToString());
            activity.AddTag(TelemetryTags.DeliveryCount, envelope.DeliveryCount);
            activity.AddTag(TelemetryTags.MessageType, BusMetrics.MessageTypeName(envelope.MessageType));
        }

        return activity;
    }

    /// <summary>Starts the span of one batch, linked to the context each of its messages was published in.</summary>
    public static Activity? StartBatch(BusQueue queue, ReadOnlySpan<Envelope> batch, Type consumerType)
    {
        var links = new List<ActivityLink>(batch.Length);
        foreach (var envelope in batch)
        {
            if (Extract(envelope.Headers) is { TraceId: var traceId } context && traceId != default)
            {
                links.Add(new ActivityLink(context));
            }
        }

        var activity = BusDiagnostics.Source.StartActivity(ActivityKind.Consumer, default, null, links, default, queue.ProcessSpanName);
        if (activity is { IsAllDataRequested: true })
        {
            TagProcess(activity, queue.Name, consumerType);
            activity.AddTag(TelemetryTags.BatchCount, batch.Length);
            activity.AddTag(TelemetryTags.MessageType, BusMetrics.MessageTypeName(batch[0].MessageType));
        }

        return activity;
    }

    /// <summary>Marks a span failed, with the exception as an event as the conventions describe it.</summary>
    public static void Fail(Activity? activity, Exception exception)
    {
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, exception.Message);
        if (activity.IsAllDataRequested)
        {
            activity.AddTag(TelemetryTags.ErrorType, exception.GetType().FullName);
            activity.AddEvent(new ActivityEvent("exception", tags: new ActivityTagsCollection
            {
                ["exception.type"] = exception.GetType().FullName,
                ["exception.message"] = exception.Message,
                ["exception.stacktrace"] = exception.ToString(),
            }));
        }
    }

    /// <summary>
    /// Adds an event (a retry, a dead letter, an expiry, a drop) to the bus's current span: the delivery's, or the
    /// publish's for a drop. Does nothing when the current span is not the bus's or records no data.
    /// </summary>
    public static void AddEvent(string name, string tag, object? value, string? tag2 = null, object? value2 = null)
    {
        if (Recording is not { } activity)
        {
            return;
        }

        var tags = new ActivityTagsCollection { [tag] = value };
        if (tag2 is not null)
        {
            tags[tag2] = value2;
        }

        activity.AddEvent(new ActivityEvent(name, tags: tags));
    }

    /// <summary>The bus's current span when it records data, else null; a field read when nobody listens.</summary>
    public static Activity? Recording =>
        BusDiagnostics.Source.HasListeners() && Activity.Current is { IsAllDataRequested: true } activity && activity.Source == BusDiagnostics.Source
            ? activity
            : null;

    /// <summary>The trace context a message was published in, or none.</summary>
    public static ActivityContext Extract(IReadOnlyDictionary<string, object?> headers)
    {
        if (headers.Count == 0)
        {
            return default;
        }

        DistributedContextPropagator.Current.ExtractTraceIdAndState(headers, s_getter, out var traceParent, out var traceState);
        return ActivityContext.TryParse(traceParent, traceState, isRemote: true, out var context) ? context : default;
    }

    private static void TagProcess(Activity activity, string queue, Type? consumerType)
    {
        activity.AddTag(TelemetryTags.System, BusDiagnostics.MessagingSystem);
        activity.AddTag(TelemetryTags.OperationType, TelemetryTags.Process);
        activity.AddTag(TelemetryTags.OperationName, TelemetryTags.Process);
        activity.AddTag(TelemetryTags.Destination, queue);
        activity.AddTag(TelemetryTags.ConsumerGroup, queue);
        if (consumerType is not null)
        {
            activity.AddTag(TelemetryTags.Consumer, consumerType.FullName);
        }
    }

    private static void GetHeader(object? carrier, string name, out string? value, out IEnumerable<string>? values)
    {
        values = null;
        value = ((IReadOnlyDictionary<string, object?>)carrier!).TryGetValue(name, out var found) ? found as string : null;
    }
}
