using Microsoft.Extensions.DependencyInjection;

namespace Bus;

/// <summary>Configures the bus registered by <c>AddMessageBus</c>; its methods return the builder for chaining.</summary>
public interface IMessageBusBuilder
{
    /// <summary>Gets the service collection the bus is registered in.</summary>
    IServiceCollection Services { get; }
}
