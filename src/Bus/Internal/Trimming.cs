using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// What trimming must keep of the types users hand to the bus, in one place: consumers are created through their
/// public constructors and inspected for the <see cref="IConsumer{TMessage}"/> interfaces they implement; filters are
/// created through their public constructors.
/// </summary>
internal static class Trimming
{
    public const DynamicallyAccessedMemberTypes Consumer = DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.Interfaces;

    public const DynamicallyAccessedMemberTypes Filter = DynamicallyAccessedMemberTypes.PublicConstructors;

    /// <summary>Why reflecting over a consumer type given as a <see cref="Type"/> is safe.</summary>
    public const string ConsumerTypesAreKept =
        "Consumer types come from AddConsumer<TConsumer>, ReplaceConsumer and IBusTopology.AddConsumer, whose type parameters keep their constructors and interfaces, or from AddConsumers, which requires unreferenced code.";
}
