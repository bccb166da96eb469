namespace Bus;

/// <summary>
/// Chains filters in front of a terminal step, once per handler: each link is a delegate built here that keeps its
/// singleton filter once it has it, so running the chain for a message allocates nothing beyond what the filters
/// themselves do.
/// </summary>
internal static class FilterPipeline
{
    public static ConsumeFilterDelegate Build(FilterRegistration[] filters, FilterInstances instances, ConsumeFilterDelegate terminal)
    {
        var next = terminal;
        for (var i = filters.Length - 1; i >= 0; i--)
        {
            var filter = filters[i];
            if (typeof(IConsumeFilter).IsAssignableFrom(filter.FilterType))
            {
                var inner = next;
                IConsumeFilter? singleton = null;
                next = filter.IsSingleton
                    ? context => (singleton ??= (IConsumeFilter)instances.GetSingleton(filter)).ConsumeAsync(context, inner)
                    : context => ((IConsumeFilter)filter.Create(context.Services)).ConsumeAsync(context, inner);
            }
        }

        return next;
    }

    public static BatchConsumeFilterDelegate Build(FilterRegistration[] filters, FilterInstances instances, BatchConsumeFilterDelegate terminal)
    {
        var next = terminal;
        for (var i = filters.Length - 1; i >= 0; i--)
        {
            var filter = filters[i];
            if (typeof(IBatchConsumeFilter).IsAssignableFrom(filter.FilterType))
            {
                var inner = next;
                IBatchConsumeFilter? singleton = null;
                next = filter.IsSingleton
                    ? context => (singleton ??= (IBatchConsumeFilter)instances.GetSingleton(filter)).ConsumeAsync(context, inner)
                    : context => ((IBatchConsumeFilter)filter.Create(context.Services)).ConsumeAsync(context, inner);
            }
        }

        return next;
    }

    public static PublishFilterDelegate Build(FilterRegistration[] filters, FilterInstances instances, PublishFilterDelegate terminal)
    {
        var next = terminal;
        for (var i = filters.Length - 1; i >= 0; i--)
        {
            var filter = filters[i];
            if (typeof(IPublishFilter).IsAssignableFrom(filter.FilterType))
            {
                var inner = next;
                IPublishFilter? singleton = null;
                next = filter.IsSingleton
                    ? context => (singleton ??= (IPublishFilter)instances.GetSingleton(filter)).PublishAsync(context, inner)
                    : context => ((IPublishFilter)filter.Create(context.Services)).PublishAsync(context, inner);
            }
        }

        return next;
    }

    /// <summary>Whether any of the filters of one kind must be resolved per message, so the message needs a DI scope.</summary>
    public static bool NeedsScope(FilterRegistration[] filters, Type kind)
    {
        foreach (var filter in filters)
        {
            if (!filter.IsSingleton && kind.IsAssignableFrom(filter.FilterType))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether any of the filters is of one kind.</summary>
    public static bool Any(FilterRegistration[] filters, Type kind)
    {
        foreach (var filter in filters)
        {
            if (kind.IsAssignableFrom(filter.FilterType))
            {
                return true;
            }
        }

        return false;
    }
}
