using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Benchmarks;

/// <summary>
/// The floor for a round trip between two tasks: a request channel and a reply channel (bounded, capacity 1), a
/// responder loop that reads a request and writes the reply.
/// </summary>
public sealed class RawPingPongHarness : IRoundTripHarness
{
    private readonly Channel<OrderPlaced> _requests = Channel.CreateBounded<OrderPlaced>(1);
    private readonly Channel<OrderAccepted> _replies = Channel.CreateBounded<OrderAccepted>(1);
    private Task _responder = Task.CompletedTask;

    public Task StartAsync()
    {
        _responder = Task.Run(async () =>
        {
            while (await _requests.Reader.WaitToReadAsync())
            {
                while (_requests.Reader.TryRead(out var request))
                {
                    await _replies.Writer.WriteAsync(new OrderAccepted(request.Id));
                }
            }
        });
        return Task.CompletedTask;
    }

    public async Task RoundTripAsync(int id)
    {
        await _requests.Writer.WriteAsync(new OrderPlaced(id, 10m));
        await _replies.Reader.ReadAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _requests.Writer.TryComplete();
        await _responder;
    }
}

/// <summary>Bus: <c>RequestAsync</c> to a singleton consumer that answers with <c>RespondAsync</c>.</summary>
public sealed class BusRoundTripHarness : IRoundTripHarness
{
    private ServiceProvider _services = null!;
    private IPublisher _publisher = null!;

    public async Task StartAsync()
    {
        var services = new ServiceCollection();
        services.AddMessageBus(b => b.AddConsumer<Responder>(c => c.Lifetime = ConsumerLifetime.Singleton));
        _services = services.BuildServiceProvider();
        var bus = _services.GetRequiredService<IMessageBus>();
        await bus.StartAsync();
        _publisher = bus;
    }

    public Task RoundTripAsync(int id) => _publisher.RequestAsync<OrderPlaced, OrderAccepted>(new OrderPlaced(id, 10m));

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    public sealed class Responder : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            context.RespondAsync(new OrderAccepted(context.Message.Id), cancellationToken);
    }
}
