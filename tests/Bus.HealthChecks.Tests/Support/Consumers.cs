namespace Bus.HealthChecks.Tests.Support;

/// <summary>Waits at the gate, then acknowledges the message.</summary>
public sealed class GatedConsumer(Gate gate) : IConsumer<Job>
{
    public async ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
        await gate.PassAsync(cancellationToken);
}

/// <summary>Always throws: with the default retry policy (none), every message is dead-lettered at once.</summary>
public sealed class FailingConsumer : IConsumer<Job>
{
    public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) =>
        throw new InvalidOperationException($"Job {context.Message.Id} failed.");
}
