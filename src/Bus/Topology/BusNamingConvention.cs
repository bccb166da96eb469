namespace Bus;

/// <summary>
/// Names the default topology: the exchange each message type is published to, and the own queue of each consumer
/// added without a queue name. Set it once for the whole bus with <see cref="BusOptions.NamingConvention"/> (or the
/// builder's <c>UseKebabCaseNames</c>). Names given explicitly (<c>AddQueue</c>, <c>AddExchange</c>,
/// <see cref="ConsumerOptions.Queue"/>, <c>MapMessage</c>, <see cref="PublishOptions.Exchange"/>) are never rewritten.
/// </summary>
/// <remarks>
/// A convention is called while the bus is configured and, for message types first published at run time, once per
/// type on the first publish; it must return the same non-empty name for the same type every time, and distinct types
/// should get distinct names (two message types sharing an exchange share its consumers).
/// </remarks>
public abstract class BusNamingConvention
{
    /// <summary>Creates a naming convention.</summary>
    protected BusNamingConvention()
    {
    }

    /// <summary>
    /// Gets the default convention: the type's full name, exactly (<c>Shop.Orders.OrderPlaced</c>,
    /// <c>Shop.Payments.PaymentConsumer</c>).
    /// </summary>
    public static BusNamingConvention FullName { get; } = new FullNameNamingConvention();

    /// <summary>
    /// Gets a convention of lower-case kebab-case names that keep the namespace, so that names stay unique:
    /// <c>Shop.Payments.PaymentService</c> becomes <c>shop.payments.payment-service</c>. Each dot-separated part is
    /// converted as <see cref="System.Text.Json.JsonNamingPolicy.KebabCaseLower"/> converts a name (<c>HTTPRequest</c>
    /// becomes <c>http-request</c>); a nested type's containing type is one more part (<c>Outer+Inner</c> becomes
    /// <c>outer.inner</c>); a generic type's arguments follow in brackets (<c>Envelope&lt;Order&gt;</c> becomes
    /// <c>envelope[shop.order]</c>).
    /// </summary>
    /// <param name="prefix">
    /// Put before every name, followed by a dot (<c>eu</c> gives <c>eu.shop.payments.payment-service</c>); used as given.
    /// <see langword="null"/> for none.
    /// </param>
    /// <returns>The convention.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or white space.</exception>
    public static BusNamingConvention KebabCase(string? prefix = null)
    {
        if (prefix is not null && string.IsNullOrWhiteSpace(prefix))
        {
            throw new ArgumentException("A name prefix must not be empty or white space; pass null for none.", nameof(prefix));
        }

        return new KebabCaseNamingConvention(prefix);
    }

    /// <summary>Gets the name of the exchange a message type is published to, unless it is mapped to another.</summary>
    /// <param name="messageType">The message type.</param>
    /// <returns>The exchange name; not empty.</returns>
    public abstract string GetExchangeName(Type messageType);

    /// <summary>Gets the name of a consumer's own queue, when its options name none.</summary>
    /// <param name="consumerType">The consumer type (for a replaced consumer, the type it replaced).</param>
    /// <returns>The queue name; not empty.</returns>
    public abstract string GetQueueName(Type consumerType);
}
