using System.Diagnostics;

namespace Bus;

/// <summary>
/// A message on its way into the bus, as publish filters see it (<see cref="IPublishFilter"/>): what will be routed and
/// stored once the last filter calls next.
/// </summary>
/// <remarks>
/// The bus reuses context objects between publishes: a context is valid only until the publish's task completes.
/// </remarks>
[DebuggerDisplay("{MessageType.Name,nq} to {Queue ?? Exchange ?? \"(its exchange)\",nq}")]
public sealed class PublishContext
{
    private readonly Dictionary<string, object?> _headers = new(StringComparer.Ordinal);
    private string _routingKey = string.Empty;

    internal PublishContext()
    {
    }

    /// <summary>Gets the message.</summary>
    public object Message { get; private set; } = default!;

    /// <summary>Gets the message type the bus routes it by.</summary>
    public Type MessageType { get; private set; } = default!;

    /// <summary>Gets the queue of a send; null for a publish.</summary>
    public string? Queue { get; private set; }

    /// <summary>Gets or sets the exchange of a publish; null for the message type's exchange. Must stay null for a send.</summary>
    public string? Exchange { get; set; }

    /// <summary>Gets or sets the routing key; empty for none.</summary>
    public string RoutingKey
    {
        get => _routingKey;
        set => _routingKey = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// Gets the headers the message will carry, to read and change. Values must be what headers allow (null, a string,
    /// a bool, a number, a Guid, a DateTime, a DateTimeOffset or a TimeSpan); they are checked when the filters are done.
    /// </summary>
    public IDictionary<string, object?> Headers => _headers;

    /// <summary>Gets or sets the message id; null until the bus assigns one after the filters.</summary>
    public Guid? MessageId { get; set; }

    /// <summary>Gets or sets the correlation id; null to carry the consuming message's on, or to use the message id.</summary>
    public Guid? CorrelationId { get; set; }

    /// <summary>Gets or sets the time to live; null for the queue's (or none).</summary>
    public TimeSpan? TimeToLive { get; set; }

    /// <summary>Gets or sets the priority, for queues that order by it.</summary>
    public byte Priority { get; set; }

    /// <summary>Gets or sets whether a publish no queue is bound for throws <see cref="UnroutableMessageException"/>.</summary>
    public bool Mandatory { get; set; }

    /// <summary>Gets the services of the publish: the publishing consumer's DI scope, a scope for the publish, or the root.</summary>
    public IServiceProvider Services { get; internal set; } = default!;

    /// <summary>Gets the publisher's token.</summary>
    public CancellationToken CancellationToken { get; private set; }

    /// <summary>Gets a value indicating whether this is a send to one queue rather than a publish to an exchange.</summary>
    public bool IsSend => Queue is not null;

    internal ConsumerSlot? Origin { get; private set; }

    internal PendingRequest? Request { get; private set; }

    /// <summary>The id a request's requester waits on; a filter cannot change it (see <see cref="SealRequest"/>).</summary>
    private Guid _requestId;

    internal Activity? Activity { get; set; }

    /// <summary>When a scheduled publish is due; null for a publish now.</summary>
    internal DateTimeOffset? DeliverAt { get; set; }

    /// <summary>The exchange or queue the message was routed at, once known.</summary>
    internal string? Destination { get; set; }

    internal void Initialize(
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
        Message = message;
        MessageType = messageType;
        Queue = queue;
        Exchange = options?.Exchange;
        _routingKey = routingKey;
        MessageId = options?.MessageId;
        CorrelationId = options?.CorrelationId ?? correlationId;
        TimeToLive = options?.TimeToLive;
        Priority = options?.Priority ?? 0;
        Mandatory = options?.Mandatory ?? false;
        Origin = origin;
        Request = request;
        _requestId = request is null ? default : options!.MessageId!.Value;
        CancellationToken = cancellationToken;
        if (options?.Headers is { } headers)
        {
            foreach (var (key, value) in headers)
            {
                _headers[key] = value;
            }
        }
    }

    /// <summary>
    /// Puts back what a request depends on, whatever the filters did: its id (the requester waits on it), Mandatory (no
    /// route must fail at once, not time out) and the reply-to header (the responder checks it).
    /// </summary>
    internal void SealRequest()
    {
        if (Request is not null)
        {
            MessageId = _requestId;
            Mandatory = true;
            _headers[RequestHeaders.ReplyTo] = RequestHeaders.InProcess;
        }
    }

    /// <summary>The headers as the message stores them (checked and copied), or null when there are none.</summary>
    internal IReadOnlyDictionary<string, object?>? TakeHeaders() =>
        _headers.Count == 0 ? null : MessageHeaders.Copy(_headers, nameof(Headers));

    /// <summary>Forgets the publish, so a pooled context holds on to nothing.</summary>
    internal void Clear()
    {
        Message = default!;
        MessageType = default!;
        Queue = null;
        Exchange = null;
        _headers.Clear();
        Services = default!;
        Origin = null;
        Request = null;
        Activity = null;
        Destination = null;
        DeliverAt = null;
        CancellationToken = default;
    }
}
