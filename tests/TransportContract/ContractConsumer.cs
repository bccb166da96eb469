using Microsoft.Extensions.DependencyInjection;

namespace Bus.TransportContract;

/// <summary>
/// The one consumer of the contract's queues: it does what each message's plan says and counts every attempt with the
/// probe. What was consumed is not recorded here but by the probe as an observer, when the bus settles the delivery.
/// </summary>
public sealed class ContractConsumer(ContractProbe probe) : IConsumer<Work>, IConsumer<Question>, IConsumer<Tick>, IConsumer<Marker>
{
    public async ValueTask ConsumeAsync(ConsumeContext<Work> context, CancellationToken cancellationToken)
    {
        var work = context.Message;
        var attempt = probe.Attempt(context.MessageId);
        if (work.Gated)
        {
            await probe.Gate.PassAsync(cancellationToken);
        }

        if (work.Reject)
        {
            context.Reject($"work {work.Id} is rejected");
            return;
        }

        if (attempt <= work.Failures)
        {
            throw new InvalidOperationException($"work {work.Id} failed on attempt {attempt}");
        }
    }

    public async ValueTask ConsumeAsync(ConsumeContext<Question> context, CancellationToken cancellationToken)
    {
        var question = context.Message;
        probe.Attempt(context.MessageId);
        if (question.Fail)
        {
            throw new InvalidOperationException($"question {question.Id} cannot be answered");
        }

        await context.RespondAsync(new Answer(question.Id, question.Id * 2), cancellationToken);
    }

    public ValueTask ConsumeAsync(ConsumeContext<Tick> context, CancellationToken cancellationToken)
    {
        probe.Gate.Open();
        return ValueTask.CompletedTask;
    }

    public ValueTask ConsumeAsync(ConsumeContext<Marker> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

/// <summary>Declares the contract's queues: each with the <see cref="ContractConsumer"/>, and bound only as the test binds it.</summary>
public static class ContractTopology
{
    /// <summary>
    /// Declares a queue (a declared queue gets no default binding to the message types' exchanges, which tests on a
    /// shared broker must never use) and consumes it with <see cref="ContractConsumer"/>.
    /// </summary>
    public static IMessageBusBuilder AddConsumedQueue(this IMessageBusBuilder bus, string queue, Action<QueueOptions>? options = null, IRetryPolicy? retryPolicy = null) =>
        bus.AddQueue(queue, options).AddConsumer<ContractConsumer>(c =>
        {
            c.Queue = queue;
            c.RetryPolicy = retryPolicy;
        });
}
