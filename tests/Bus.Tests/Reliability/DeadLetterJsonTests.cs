using System.Text.Json;
using Bus.Tests.Support;

namespace Bus.Tests.Reliability;

/// <summary>A dead letter serializes with System.Text.Json as it is: what a <c>/dead-letters</c> endpoint returns.</summary>
public sealed class DeadLetterJsonTests
{
    [Fact]
    public async Task A_dead_letter_from_the_bus_serializes_with_the_default_options()
    {
        var deadLetter = await DeadLetterFromTheBusAsync();

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(deadLetter));

        var root = json.RootElement;
        root.GetProperty("Queue").GetString().Should().Be(typeof(Declining).FullName);
        root.GetProperty("Reason").GetString().Should().Be("Failed");
        root.GetProperty("Error").GetProperty("Type").GetString().Should().Be(typeof(InvalidOperationException).FullName);
        root.GetProperty("Error").GetProperty("Message").GetString().Should().Be("card declined");
        var envelope = root.GetProperty("Envelope");
        envelope.GetProperty("MessageType").GetString().Should().Be(typeof(OrderPlaced).FullName);
        envelope.GetProperty("MessageId").GetGuid().Should().Be(deadLetter.Envelope.MessageId);
        envelope.GetProperty("Message").GetProperty("Id").GetInt32().Should().Be(7);
        envelope.GetProperty("Message").GetProperty("Total").GetDecimal().Should().Be(42.5m);
    }

    [Fact]
    public async Task A_dead_letter_serializes_with_the_web_defaults_of_an_ASP_NET_Core_endpoint()
    {
        var deadLetter = await DeadLetterFromTheBusAsync();

        using var json = JsonDocument.Parse(JsonSerializer.Serialize(deadLetter, new JsonSerializerOptions(JsonSerializerDefaults.Web)));

        json.RootElement.GetProperty("envelope").GetProperty("messageType").GetString().Should().Be(typeof(OrderPlaced).FullName);
        json.RootElement.GetProperty("message").GetProperty("total").GetDecimal().Should().Be(42.5m);
        json.RootElement.GetProperty("reason").GetString().Should().Be("Failed");
    }

    [Fact]
    public void A_generic_type_is_written_with_its_arguments_and_without_assembly_names()
    {
        var options = new JsonSerializerOptions { Converters = { new TypeNameJsonConverter() } };

        var json = JsonSerializer.Serialize(typeof(RecordingConsumer<Job>), options);

        JsonSerializer.Deserialize<string>(json).Should().Be("Bus.Tests.Support.RecordingConsumer`1[Bus.Tests.Support.Job]");
    }

    [Fact]
    public void A_type_is_not_read_back_from_JSON()
    {
        var options = new JsonSerializerOptions { Converters = { new TypeNameJsonConverter() } };

        var read = () => JsonSerializer.Deserialize<Type>("\"System.String\"", options);

        read.Should().Throw<NotSupportedException>().WithMessage("*is not read back*");
    }

    private static async Task<DeadLetter> DeadLetterFromTheBusAsync()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<Declining>());
        await bus.Publisher.PublishAsync(new OrderPlaced(7, 42.5m));
        await bus.IdleAsync();
        return (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
    }

    public sealed class Declining : IConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("card declined");
    }
}
