using System.Globalization;

namespace Bus.RabbitMQ;

/// <summary>The names of the queues the transport adds beside the bus's own.</summary>
internal static class RabbitMqNames
{
    /// <summary>The suffix of a queue's dead-letter queue.</summary>
    public const string DeadLetterSuffix = ".dead-letters";

    /// <summary>The dead-letter queue of a queue, where its dead letters wait to be inspected, replayed or purged.</summary>
    public static string DeadLetters(string queue) => queue + DeadLetterSuffix;

    /// <summary>The wait queue of a queue's delayed retries for one rung of the delay ladder.</summary>
    public static string Wait(string queue, TimeSpan rung) =>
        $"{queue}.retry.{((long)rung.TotalMilliseconds).ToString(CultureInfo.InvariantCulture)}ms";
}
