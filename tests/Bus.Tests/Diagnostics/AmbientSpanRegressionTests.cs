using System.Collections.Concurrent;
using System.Diagnostics;
using Bus.Tests.Support;

namespace Bus.Tests.Diagnostics;

/// <summary>Regressions found by review: ambient spans after a synchronous failure, and listeners that throw.</summary>
[Collection(BusActivitySourceCollection.Name)]
public sealed class AmbientSpanRegressionTests
{
    [Fact]
    public async Task Deliveries_after_one_that_failed_synchronously_do_not_start_inside_its_span()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("held", q => q.PrefetchCount = 4).AddConsumer<GatedThenFailingConsumer>(c => c.Queue = "held"),
            s => s.AddSingleton(new Gate()));
        var gate = bus.Get<Gate>();

        // Sent while nobody listens: no trace context travels with them, so each delivery's span must be a root.
        for (var i = 0; i < 4; i++)
        {
            await bus.Publisher.SendAsync("held", new Job(i));
        }

        await gate.WhenArrivedAsync(1).WaitAsync(TestBus.Timeout);
        var spans = new ConcurrentQueue<Activity>();
        using var listener = Listen(stopped: a =>
        {
            if (a.DisplayName == "process held")
            {
                spans.Enqueue(a);
            }
        });
        gate.Open();
        await bus.IdleAsync();

        spans.Should().HaveCount(3, "Job 0 began before anyone listened");
        spans.Should().OnlyContain(s => s.ParentSpanId == default, "no delivery is the child of another");
        spans.Select(s => s.TraceId).Should().OnlyHaveUniqueItems();
    }

    [Fact]
    public async Task A_listener_that_throws_when_a_span_ends_does_not_fail_the_delivery()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "orders"));
        using var listener = Listen(stopped: a =>
        {
            if (a.DisplayName == "process orders")
            {
                throw new InvalidOperationException("a broken exporter");
            }
        });

        await bus.Publisher.PublishAsync(new OrderPlaced(1));
        await bus.IdleAsync();

        var orders = bus.Bus.GetStatistics().GetQueue("orders");
        (orders.Consumed, orders.Unprocessed, orders.DeadLettered).Should().Be((1L, 0L, 0L));
    }

    private static ActivityListener Listen(Action<Activity> stopped)
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == BusDiagnostics.SourceName,
            Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = stopped,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    public sealed class GatedThenFailingConsumer(Gate gate) : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => context.Message.Id switch
        {
            0 => new ValueTask(gate.PassAsync(cancellationToken)),
            1 => throw new InvalidOperationException("fails before returning a task"),
            _ => default,
        };
    }
}
