using Bus;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Sets how the default topology is named, once for the whole bus (see <see cref="BusNamingConvention"/>).</summary>
public static class NamingConventionBuilderExtensions
{
    /// <summary>
    /// Names default exchanges and consumers' own queues in lower-case kebab case, namespace kept:
    /// <c>Shop.Payments.PaymentService</c> reads the queue <c>shop.payments.payment-service</c> (see
    /// <see cref="BusNamingConvention.KebabCase"/>). Names given explicitly are never rewritten.
    /// </summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="prefix">Put before every default name, followed by a dot; <see langword="null"/> for none.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException"><paramref name="prefix"/> is empty or white space.</exception>
    public static IMessageBusBuilder UseKebabCaseNames(this IMessageBusBuilder builder, string? prefix = null) =>
        builder.UseNamingConvention(BusNamingConvention.KebabCase(prefix));

    /// <summary>Names default exchanges and consumers' own queues with a convention of your own.</summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="convention">The convention.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder UseNamingConvention(this IMessageBusBuilder builder, BusNamingConvention convention)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(convention);
        return builder.Configure(options => options.NamingConvention = convention);
    }
}
