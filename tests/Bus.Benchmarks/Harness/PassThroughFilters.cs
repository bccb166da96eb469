namespace Bus.Benchmarks;

/// <summary>The least a publish filter can be: it calls the rest of the pipeline. Added as a singleton.</summary>
public sealed class PassThroughPublishFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next) => next(context);
}

/// <summary>The least a consume filter can be: it calls the rest of the pipeline. Added as a singleton.</summary>
public sealed class PassThroughConsumeFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next) => next(context);
}
