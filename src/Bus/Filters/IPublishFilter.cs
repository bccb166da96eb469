namespace Bus;

/// <summary>Calls the rest of a publish pipeline: the next filter, or at the end the bus's routing.</summary>
/// <param name="context">The message being published.</param>
/// <returns>A task that completes when the rest of the pipeline has.</returns>
public delegate ValueTask PublishFilterDelegate(PublishContext context);

/// <summary>
/// Code around every publish, send and scheduled publish (when it is scheduled), before the message is routed: validate it, stamp headers (a tenant, a user),
/// time it, or refuse it by throwing. Register it with <c>AddPublishFilter</c> on the bus builder.
/// </summary>
/// <remarks>
/// Filters run in the order added. Changes to <see cref="PublishContext"/> (headers, routing key, ids) are what the bus
/// routes and stores, except that a request keeps its message id, <see cref="PublishContext.Mandatory"/> and its
/// reply-to header, which its requester depends on. A filter that returns without calling next drops the publish silently: the caller's task
/// completes and nothing is accepted (a dropped <c>ScheduleAsync</c> returns the id its options gave, or
/// <see cref="Guid.Empty"/>). A scoped filter is resolved from the publishing consumer's DI scope when a
/// consumer publishes, else from a scope created for the publish.
/// </remarks>
public interface IPublishFilter
{
    /// <summary>Runs the filter for one publish.</summary>
    /// <param name="context">The message being published; valid until the returned task completes.</param>
    /// <param name="next">The rest of the pipeline.</param>
    /// <returns>A task that completes when the filter is done.</returns>
    ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next);
}
