using Bus;
using Bus.RabbitMQ;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Moves a bus onto RabbitMQ.</summary>
public static class RabbitMqBusBuilderExtensions
{
    /// <summary>
    /// Runs the bus over RabbitMQ: its exchanges, queues and bindings are declared on the broker, publishes complete on
    /// the broker's confirm, consumers take the broker's deliveries with manual acks, delayed retries wait in the
    /// broker, and dead letters go to a dead-letter queue beside each queue (the <see cref="IDeadLetterStore"/>). The
    /// consumers do not change. Options the broker cannot honour fail the start, each named.
    /// </summary>
    /// <param name="builder">The bus builder.</param>
    /// <param name="configure">Sets the broker's address and the transport's options.</param>
    /// <returns>The builder.</returns>
    public static IMessageBusBuilder UseRabbitMQ(this IMessageBusBuilder builder, Action<RabbitMqOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var options = services.AddOptions<RabbitMqOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<RabbitMqOptions>, RabbitMqOptionsValidator>());
        services.TryAddSingleton<RabbitMqTransport>();
        services.Replace(ServiceDescriptor.Singleton<IMessageTransport>(static provider => provider.GetRequiredService<RabbitMqTransport>()));
        // The broker's store only while the broker is the transport: a test harness that swaps in the in-memory
        // transport gets the in-memory store with it.
        services.Replace(ServiceDescriptor.Singleton<IDeadLetterStore>(static provider =>
            provider.GetRequiredService<IMessageTransport>() is RabbitMqTransport transport
                ? new RabbitMqDeadLetterStore(transport)
                : ActivatorUtilities.CreateInstance<InMemoryDeadLetterStore>(provider)));
        return builder;
    }
}
