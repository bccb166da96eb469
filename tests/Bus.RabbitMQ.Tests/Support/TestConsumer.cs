namespace Bus.RabbitMQ.Tests.Support;

/// <summary>What <see cref="TestConsumer{T}"/> does with each message; register one in the test bus's services.</summary>
public sealed class Behaviour<T>(Func<ConsumeContext<T>, CancellationToken, ValueTask> handle)
{
    public Func<ConsumeContext<T>, CancellationToken, ValueTask> Handle { get; } = handle;

    /// <summary>Every call, before the behaviour runs: message, delivery count, queue.</summary>
    public Events<Observed> Calls { get; } = new();
}

/// <summary>
/// The broker tests' consumer: it records each call and runs the test's <see cref="Behaviour{T}"/> (none: it consumes
/// the message). <see cref="Probe"/> tells what the bus made of it.
/// </summary>
public sealed class TestConsumer<T>(IServiceProvider services) : IConsumer<T>
{
    public ValueTask ConsumeAsync(ConsumeContext<T> context, CancellationToken cancellationToken)
    {
        if (services.GetService(typeof(Behaviour<T>)) is not Behaviour<T> behaviour)
        {
            return ValueTask.CompletedTask;
        }

        behaviour.Calls.Add(new Observed(context.Envelope, context.Queue));
        return behaviour.Handle(context, cancellationToken);
    }
}

/// <summary>A second consumer type, for a queue that needs another consumer of the same message type.</summary>
public sealed class OtherConsumer<T> : IConsumer<T>
{
    public ValueTask ConsumeAsync(ConsumeContext<T> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}
