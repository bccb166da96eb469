namespace Bus.RabbitMQ.Tests.Support;

/// <summary>
/// The test classes that restart the broker (<see cref="BrokerVhost.RestartBrokerAppAsync"/>). A restart drops every
/// connection on the broker, so these classes run alone: xunit runs a collection without parallelization after all the
/// others, one class at a time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BrokerRestartCollection
{
    public const string Name = "Broker restarts";
}
