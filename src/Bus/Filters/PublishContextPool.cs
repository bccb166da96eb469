namespace Bus;

/// <summary>
/// One spare <see cref="PublishContext"/> per thread: a publish takes it and gives it back when done, so observed and
/// filtered publishes allocate no context in the steady state. A publish that finds the spare taken (a filter that
/// publishes, or one still running on this thread) makes a new one.
/// </summary>
internal static class PublishContextPool
{
    [ThreadStatic]
    private static PublishContext? t_spare;

    public static PublishContext Rent()
    {
        var context = t_spare ?? new PublishContext();
        t_spare = null;
        return context;
    }

    public static void Return(PublishContext context)
    {
        context.Clear();
        t_spare = context;
    }
}
