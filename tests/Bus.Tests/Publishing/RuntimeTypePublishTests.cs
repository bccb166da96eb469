using Bus.Tests.Support;

namespace Bus.Tests.Publishing;

/// <summary>A message whose static type says nothing about it (object, an interface) is routed by its runtime type.</summary>
public sealed class RuntimeTypePublishTests
{
    [Fact]
    public async Task A_message_published_as_object_reaches_the_consumers_of_its_runtime_type()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());
        object message = new Job(7);

        await bus.Publisher.PublishAsync(message);
        await bus.IdleAsync();

        var received = bus.Recorder.All.Should().ContainSingle().Subject;
        received.Message.Should().Be(new Job(7));
        received.Envelope.MessageType.Should().Be<Job>();
        received.Envelope.Exchange.Should().Be(bus.Bus.Topology.GetExchangeName<Job>());
    }

    [Fact]
    public async Task A_message_published_as_an_interface_reaches_the_consumers_of_its_runtime_type()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Shipped>>());
        IEvent message = new Shipped(3);

        await bus.Publisher.PublishAsync(message);
        await bus.IdleAsync();

        bus.Recorder.Messages<Shipped>().Should().Equal(new Shipped(3));
    }

    [Fact]
    public async Task A_message_scheduled_as_object_is_routed_by_its_runtime_type_when_due()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<RecordingConsumer<Job>>());
        object message = new Job(9);

        await bus.Publisher.ScheduleAsync(message, TimeSpan.FromMinutes(1));
        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.IdleAsync();

        bus.Recorder.Messages<Job>().Should().Equal(new Job(9));
    }

    public interface IEvent;

    public sealed record Shipped(int OrderId) : IEvent;
}
