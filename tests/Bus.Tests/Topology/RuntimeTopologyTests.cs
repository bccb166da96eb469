using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;

namespace Bus.Tests.Topology;

public sealed class RuntimeTopologyTests
{
    [Fact]
    public async Task A_binding_added_while_running_routes_the_next_messages()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Topic).AddQueue("audit"));
        var options = new PublishOptions { Exchange = "events", RoutingKey = "order.created" };
        await bus.Publisher.PublishAsync(new Job(1), options);

        bus.Bus.Topology.Bind(new Binding("events", "audit", "order.*")).Should().BeTrue();
        await bus.Publisher.PublishAsync(new Job(2), options);

        bus.Bus.GetStatistics().GetQueue("audit").Enqueued.Should().Be(1);
        bus.Bus.Topology.GetBindings("events").Should().ContainSingle().Which.RoutingKey.Should().Be("order.*");
    }

    [Fact]
    public async Task A_binding_removed_while_running_stops_routing()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Fanout).AddQueue("audit").Bind("events", "audit"));
        var options = new PublishOptions { Exchange = "events" };
        await bus.Publisher.PublishAsync(new Job(1), options);

        bus.Bus.Topology.Unbind(new Binding("events", "audit")).Should().BeTrue();
        await bus.Publisher.PublishAsync(new Job(2), options);

        bus.Bus.GetStatistics().GetQueue("audit").Enqueued.Should().Be(1);
        bus.Bus.Topology.Unbind(new Binding("events", "audit")).Should().BeFalse();
    }

    [Fact]
    public async Task Publishers_keep_going_while_bindings_change()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("events", ExchangeType.Topic)
            .AddQueue("stable", q => q.Capacity = 100_000)
            .AddQueue("churn", q => q.Capacity = 100_000)
            .Bind("events", "stable", "#"));
        var options = new PublishOptions { Exchange = "events", RoutingKey = "a.b" };
        using var stop = new CancellationTokenSource();

        var churn = Task.Run(() =>
        {
            var binding = new Binding("events", "churn", "a.*");
            while (!stop.IsCancellationRequested)
            {
                bus.Bus.Topology.Bind(binding);
                bus.Bus.Topology.Unbind(binding);
            }
        });
        for (var i = 0; i < 20_000; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i), options);
        }

        await stop.CancelAsync();
        await churn.WaitAsync(TestBus.Timeout);

        bus.Bus.GetStatistics().GetQueue("stable").Enqueued.Should().Be(20_000);
    }

    [Fact]
    public async Task Queues_and_consumers_can_be_added_while_running()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Fanout));

        bus.Bus.Topology.DeclareQueue("late", new QueueOptions { Capacity = 10 });
        bus.Bus.Topology.AddConsumer<RecordingConsumer<Job>>("late");
        bus.Bus.Topology.Bind(new Binding("events", "late"));
        await bus.Publisher.PublishAsync(new Job(1), new PublishOptions { Exchange = "events" });
        await bus.IdleAsync();

        bus.Recorder.In("late").Should().ContainSingle();
    }

    [Fact]
    public async Task Deleting_a_queue_lets_its_consumer_finish_what_it_holds()
    {
        await using var bus = await TestBus.StartAsync(
            b => b.AddQueue("old").AddConsumer<GatedConsumer<Job>>(c => c.Queue = "old"),
            s => s.AddSingleton<Gate>());
        for (var i = 0; i < 3; i++)
        {
            await bus.Publisher.SendAsync("old", new Job(i));
        }

        await bus.Get<Gate>().WhenArrivedAsync(1);
        var deleting = bus.Bus.Topology.DeleteQueueAsync("old");
        bus.Get<Gate>().Open();
        var report = await deleting.WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeTrue();
        bus.Recorder.Messages<Job>().Should().HaveCount(3);
        bus.Bus.Topology.Queues.Should().NotContain("old");
        var send = async () => await bus.Publisher.SendAsync("old", new Job(9));
        await send.Should().ThrowAsync<ArgumentException>();
    }

    [Fact]
    public async Task Deleting_a_queue_nobody_consumes_reports_its_messages()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue("orphan"));
        await bus.Publisher.SendAsync("orphan", new Job(1));

        var report = await bus.Bus.Topology.DeleteQueueAsync("orphan").WaitAsync(TestBus.Timeout);

        report.Drained.Should().BeFalse();
        report.Unprocessed.Should().ContainSingle().Which.Envelope.Message.Should().Be(new Job(1));
    }

    [Fact]
    public async Task Redeclaring_an_exchange_with_another_type_is_refused()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Fanout));

        bus.Bus.Topology.DeclareExchange("events", ExchangeType.Fanout);
        var redeclare = () => bus.Bus.Topology.DeclareExchange("events", ExchangeType.Topic);

        redeclare.Should().Throw<InvalidOperationException>().Which.Message.Should().Contain("'events'").And.Contain("fanout").And.Contain("topic");
    }

    [Fact]
    public async Task A_runtime_binding_with_a_malformed_pattern_is_refused_by_name()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddExchange("events", ExchangeType.Topic).AddQueue("q"));

        var bind = () => bus.Bus.Topology.Bind(new Binding("events", "q", "a..b"));

        bind.Should().Throw<ArgumentException>().Which.Message.Should().Contain("a..b");
        bus.Bus.Topology.GetBindings("events").Should().BeEmpty();
    }
}
