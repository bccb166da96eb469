namespace Bus.RabbitMQ;

/// <summary>The kind of queue the bus declares on the broker (<c>x-queue-type</c>).</summary>
public enum RabbitMqQueueType
{
    /// <summary>Classic queues: priorities, and a redelivered flag (a redelivery counts one more delivery).</summary>
    Classic,

    /// <summary>Quorum queues: replicated, with the broker's own delivery count; no priorities.</summary>
    Quorum,
}
