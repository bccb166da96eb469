using Microsoft.Extensions.DependencyInjection;

namespace Bus;

internal sealed class MessageBusBuilder(IServiceCollection services) : IMessageBusBuilder
{
    public IServiceCollection Services { get; } = services;
}
