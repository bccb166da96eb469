using System.Collections.Concurrent;

namespace Bus;

/// <summary>
/// The filter instances of one bus: each singleton filter is created once per bus, on first use (so it may depend on
/// the bus itself), from the bus's own root services; scoped and transient ones come from each message's services.
/// </summary>
internal sealed class FilterInstances(IServiceProvider root)
{
    private readonly ConcurrentDictionary<FilterRegistration, Lazy<object>> _singletons = new();

    public IServiceProvider Root => root;

    /// <summary>A filter for one message.</summary>
    public TFilter Get<TFilter>(FilterRegistration filter, IServiceProvider messageServices)
        where TFilter : class =>
        (TFilter)(filter.IsSingleton ? GetSingleton(filter) : filter.Create(messageServices));

    /// <summary>
    /// The bus's one instance of a singleton filter; pipelines cache it, so this runs once per link. A constructor that
    /// throws is tried again on the next message rather than remembered (two racing first uses may build two, and
    /// keep one).
    /// </summary>
    public object GetSingleton(FilterRegistration filter) =>
        _singletons.GetOrAdd(filter, static (f, services) => new Lazy<object>(() => f.Create(services), LazyThreadSafetyMode.PublicationOnly), root).Value;
}
