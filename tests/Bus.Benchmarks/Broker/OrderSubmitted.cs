namespace Bus.Benchmarks;

/// <summary>
/// The one message of the RabbitMQ scenarios, for every contender: a small record whose JSON is about 60 bytes
/// (<c>{"Id":12345,"Sku":"SKU-10042-RED","Quantity":3,"Total":59.97}</c>, the names cased as each library's serializer
/// cases them). The in-memory scenarios keep <see cref="OrderPlaced"/>.
/// </summary>
public sealed record OrderSubmitted(int Id, string Sku, int Quantity, decimal Total)
{
    public static OrderSubmitted Create(int id) => new(id, "SKU-10042-RED", 3, 59.97m);
}
