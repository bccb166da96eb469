using System.Reflection;
using Bus.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.Tests.Regressions;

/// <summary>
/// Issue 13, defect 11 (singleton construction): a singleton consumer whose constructor throws surfaces with the
/// constructor's own exception, not wrapped in a <see cref="TargetInvocationException"/>.
/// </summary>
/// <remarks>
/// Today it surfaces when <see cref="IMessageBus"/> is resolved (the topology is built then) for a consumer configured
/// with <c>AddConsumer</c>, and from <see cref="IBusTopology.AddConsumer{TConsumer}"/> for one added at run time. The
/// tests accept any of the places a rewrite may move it to: thrown while building, starting, publishing or waiting
/// for idle, or recorded with the dead letter or in the log of the first delivery.
/// </remarks>
public sealed class SingletonConstructorRegressionTests
{
    private const string Queue = "jobs";

    [Fact]
    public async Task A_configured_singleton_consumer_whose_constructor_throws_surfaces_the_constructors_exception()
    {
        TestBus? bus = null;
        Exception? thrown = null;
        try
        {
            bus = TestBus.Create(b => b.AddQueue(Queue).AddConsumer<ExplodingConsumer>(c => { c.Queue = Queue; c.Lifetime = ConsumerLifetime.Singleton; }));
            await bus.Bus.StartAsync();
            await bus.Publisher.SendAsync(Queue, new Job(1));
            await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            thrown = exception;
        }

        try
        {
            await ShouldSurfaceTheConstructorsExceptionAsync(thrown, bus);
        }
        finally
        {
            if (bus is not null)
            {
                await bus.Bus.StopAsync(new CancellationToken(canceled: true)).WaitAsync(TestBus.Timeout);
                await bus.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_singleton_consumer_added_at_run_time_whose_constructor_throws_surfaces_the_constructors_exception()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue(Queue));
        Exception? thrown = null;
        try
        {
            bus.Bus.Topology.AddConsumer<ExplodingConsumer>(Queue, ConsumerLifetime.Singleton);
            await bus.Publisher.SendAsync(Queue, new Job(1));
            await bus.Bus.WaitForIdleAsync().WithinGuardAsync("WaitForIdleAsync");
        }
        catch (Exception exception) when (exception is not TimeoutException)
        {
            thrown = exception;
        }

        await ShouldSurfaceTheConstructorsExceptionAsync(thrown, bus);
    }

    /// <summary>
    /// The constructor's exception, thrown as itself (or as the inner exception of one that says more, but never of a
    /// <see cref="TargetInvocationException"/>), or recorded with the dead letter or the log entry of the delivery.
    /// </summary>
    private static async Task ShouldSurfaceTheConstructorsExceptionAsync(Exception? thrown, TestBus? bus)
    {
        if (thrown is not null)
        {
            thrown.Should().NotBeOfType<TargetInvocationException>("the consumer's own error must not be wrapped in reflection's");
            (thrown is ConsumerConstructionFailedException || thrown.InnerException is ConsumerConstructionFailedException).Should().BeTrue(
                "the constructor's exception must surface, but {0} did", thrown);
            return;
        }

        bus.Should().NotBeNull();
        var deadLetters = await bus!.Get<IDeadLetterStore>().QueryAsync();
        var recorded = deadLetters.Any(d => d.Error?.Type == typeof(ConsumerConstructionFailedException).FullName)
            || bus.Logs.Entries.Any(e => e.Level >= LogLevel.Error && e.Exception is ConsumerConstructionFailedException);
        recorded.Should().BeTrue(
            "nothing was thrown, so the constructor's exception must be recorded with the dead letter or in the log (dead letters: {0})",
            string.Join("; ", deadLetters.Select(d => d.Error?.ToString())));
    }

    /// <summary>Thrown by <see cref="ExplodingConsumer"/>'s constructor.</summary>
    public sealed class ConsumerConstructionFailedException : Exception
    {
        public ConsumerConstructionFailedException()
            : base("the consumer's constructor failed (injected by a regression test)")
        {
        }

        public ConsumerConstructionFailedException(string message)
            : base(message)
        {
        }

        public ConsumerConstructionFailedException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }

    public sealed class ExplodingConsumer : IConsumer<Job>
    {
        public ExplodingConsumer() => throw new ConsumerConstructionFailedException();

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }
}
