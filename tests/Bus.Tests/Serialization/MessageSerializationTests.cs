using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Bus.Tests.Support;

namespace Bus.Tests.Serialization;

public sealed class MessageSerializationTests
{
    private static readonly SystemTextJsonMessageSerializer s_serializer =
        new(new JsonSerializerOptions { TypeInfoResolver = SerializationTestJson.Default });

    [Fact]
    public void A_message_round_trips_through_a_source_generated_context()
    {
        var body = new ArrayBufferWriter<byte>();

        s_serializer.Serialize(new Invoice("INV-1", 42.5m), typeof(Invoice), body);
        var read = s_serializer.Deserialize(body.WrittenSpan, typeof(Invoice));

        read.Should().Be(new Invoice("INV-1", 42.5m));
        s_serializer.ContentType.Should().Be("application/json");
    }

    [Fact]
    public void Options_without_a_type_info_resolver_are_refused_with_what_to_set()
    {
        var creating = () => new SystemTextJsonMessageSerializer(new JsonSerializerOptions());

        creating.Should().Throw<ArgumentException>().WithMessage("*TypeInfoResolver*JsonSerializerContext*");
    }

    [Fact]
    public void A_type_the_context_does_not_know_is_named_in_the_failure()
    {
        var writing = () => s_serializer.Serialize(new Job(1), typeof(Job), new ArrayBufferWriter<byte>());

        writing.Should().Throw<NotSupportedException>().WithMessage("*Job*JsonSerializable*");
    }

    [Fact]
    public void A_body_that_is_not_the_type_fails_to_deserialize()
    {
        var reading = () => s_serializer.Deserialize(Encoding.UTF8.GetBytes("null"), typeof(Invoice));
        var garbage = () => s_serializer.Deserialize(Encoding.UTF8.GetBytes("{not json"), typeof(Invoice));

        reading.Should().Throw<JsonException>();
        garbage.Should().Throw<JsonException>();
    }

    [Fact]
    public void A_type_travels_under_its_message_type_name_or_else_its_full_name()
    {
        MessageTypeNames.NameOf(typeof(Invoice)).Should().Be("billing.invoice");
        MessageTypeNames.NameOf(typeof(Job)).Should().Be(typeof(Job).FullName);
    }

    [Fact]
    public void A_name_resolves_only_to_a_type_the_bus_knows()
    {
        var names = new MessageTypeNames([typeof(Invoice), typeof(Job)]);

        names.TryResolve("billing.invoice", out var invoice).Should().BeTrue();
        invoice.Should().Be(typeof(Invoice));
        names.TryResolve(typeof(string).AssemblyQualifiedName!, out _).Should().BeFalse("a name from outside never loads a type");
        names.TryResolve("System.IO.FileInfo", out _).Should().BeFalse();
        names.GetName(typeof(Job)).Should().Be(typeof(Job).FullName);
    }

    [Fact]
    public void Two_types_under_one_name_are_refused_naming_both()
    {
        var building = () => new MessageTypeNames([typeof(Invoice), typeof(OtherInvoice)]);

        building.Should().Throw<ArgumentException>().WithMessage("*OtherInvoice*Invoice*billing.invoice*");
    }

    [Fact]
    public void A_type_the_table_does_not_know_has_no_name_there()
    {
        var names = new MessageTypeNames([typeof(Invoice)]);

        var naming = () => names.GetName(typeof(Job));

        naming.Should().Throw<ArgumentException>().WithMessage("*Job*AddMessageType*");
    }

    [Fact]
    public async Task A_max_message_size_below_one_fails_the_start()
    {
        var starting = () => TestBus.StartAsync(b => b.Configure(o => o.MaxMessageSize = 0));

        await starting.Should().ThrowAsync<Microsoft.Extensions.Options.OptionsValidationException>().WithMessage("*MaxMessageSize is 0*");
    }

    [MessageType("billing.invoice")]
    public sealed record Invoice(string Number, decimal Amount);

    [MessageType("billing.invoice")]
    public sealed record OtherInvoice(string Number);
}

[JsonSerializable(typeof(MessageSerializationTests.Invoice))]
internal sealed partial class SerializationTestJson : JsonSerializerContext;
