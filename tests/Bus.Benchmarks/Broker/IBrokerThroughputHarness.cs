namespace Bus.Benchmarks;

/// <summary>
/// A contender in the RabbitMQ throughput scenario (<see cref="RabbitMqRun"/>): scenario 1's harness over a broker, whose
/// consumer counts down, so a run can check the consumer ran exactly once per message.
/// </summary>
public interface IBrokerThroughputHarness : IThroughputHarness
{
    Countdown Countdown { get; }
}
