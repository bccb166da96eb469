using System.Text;
using System.Text.Json;

namespace Bus.Tests.Serialization;

public sealed class EnvelopeCodecTests
{
    private static readonly DateTimeOffset s_sent = new(2026, 12, 4, 12, 0, 0, 123, TimeSpan.Zero);
    private static readonly MessageTypeNames s_names = new([typeof(MessageSerializationTests.Invoice)]);
    private static readonly EnvelopeCodec s_codec = Codec(maxMessageSize: 1024);

    [Fact]
    public void An_envelope_round_trips_with_everything_that_travels_beside_the_message()
    {
        var headers = new Dictionary<string, object?> { ["tenant"] = "acme", ["traceparent"] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" };
        var sent = Envelope(new MessageSerializationTests.Invoice("INV-7", 12.5m), headers, deliveryCount: 3);

        var wire = s_codec.Encode(sent);
        s_codec.TryDecode(wire, out var received, out _, out _).Should().BeTrue();

        wire.TypeName.Should().Be("billing.invoice");
        wire.ContentType.Should().Be("application/json");
        received.Message.Should().Be(sent.Message);
        received.MessageType.Should().Be(typeof(MessageSerializationTests.Invoice));
        (received.MessageId, received.CorrelationId, received.Timestamp).Should().Be((sent.MessageId, sent.CorrelationId, s_sent));
        (received.TimeToLive, received.Priority, received.DeliveryCount).Should().Be((TimeSpan.FromMinutes(5), (byte)4, 3));
        (received.Exchange, received.RoutingKey).Should().Be(("billing", "invoice.created"));
        received.Headers.Should().BeEquivalentTo(headers);
    }

    [Fact]
    public void A_type_name_the_bus_does_not_know_is_never_instantiated_and_is_dead_lettered_as_unknown()
    {
        var wire = s_codec.Encode(Envelope(new MessageSerializationTests.Invoice("INV-8", 1m))) with { TypeName = "System.IO.FileInfo" };

        s_codec.TryDecode(wire, out var kept, out var reason, out var description).Should().BeFalse();

        reason.Should().Be(DeadLetterReason.UnknownMessageType);
        description.Should().Contain("System.IO.FileInfo");
        kept.Message.Should().BeOfType<byte[]>().Which.Should().Equal(wire.Body.ToArray());
        kept.MessageId.Should().Be(wire.MessageId, "the dead letter keeps what arrived");
    }

    [Fact]
    public void A_body_that_does_not_read_as_its_type_is_dead_lettered_as_malformed()
    {
        var wire = s_codec.Encode(Envelope(new MessageSerializationTests.Invoice("INV-9", 1m))) with { Body = Encoding.UTF8.GetBytes("{\"Number\": [") };

        s_codec.TryDecode(wire, out _, out var reason, out var description).Should().BeFalse();

        reason.Should().Be(DeadLetterReason.Malformed);
        description.Should().Contain(nameof(MessageSerializationTests.Invoice));
    }

    [Fact]
    public void A_message_over_the_size_limit_is_refused_at_publish_and_dead_lettered_at_receive()
    {
        var large = Envelope(new MessageSerializationTests.Invoice(new string('x', 2000), 1m));

        var encoding = () => s_codec.Encode(large);
        var wire = Codec(maxMessageSize: 1 << 20).Encode(large);

        encoding.Should().Throw<ArgumentException>().WithMessage("*MaxMessageSize (1024)*not sent*");
        s_codec.TryDecode(wire, out _, out var reason, out _).Should().BeFalse();
        reason.Should().Be(DeadLetterReason.TooLarge);
    }

    private static EnvelopeCodec Codec(int maxMessageSize) =>
        new(new SystemTextJsonMessageSerializer(new JsonSerializerOptions { TypeInfoResolver = SerializationTestJson.Default }), s_names, maxMessageSize);

    private static Envelope Envelope(object message, IReadOnlyDictionary<string, object?>? headers = null, int deliveryCount = 1) =>
        new(message, message.GetType(), Guid.NewGuid(), Guid.NewGuid(), s_sent, "billing", "invoice.created", headers, deliveryCount, TimeSpan.FromMinutes(5), 4);
}
