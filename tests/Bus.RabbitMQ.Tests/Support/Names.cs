namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// Names of queues, exchanges and connections for one test: the test classes share a vhost per class and the broker
/// keeps durable queues, so no two tests may use the same name (nor a type-derived default one).
/// </summary>
public static class Names
{
    public static string Unique(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..8]}";
}
