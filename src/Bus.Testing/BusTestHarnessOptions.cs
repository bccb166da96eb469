namespace Bus.Testing;

/// <summary>Options of a <see cref="BusTestHarness"/>.</summary>
public sealed class BusTestHarnessOptions
{
    /// <summary>The default <see cref="Timeout"/>.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The default <see cref="MaxEvents"/>.</summary>
    public const int DefaultMaxEvents = 100_000;

    /// <summary>
    /// Gets or sets the safety limit of every wait: a wait that takes longer fails with a <see cref="TimeoutException"/>
    /// that says what was still pending. A test that passes never reaches it.
    /// </summary>
    /// <value>The default is <see cref="DefaultTimeout"/> (30 seconds).</value>
    public TimeSpan Timeout { get; set; } = DefaultTimeout;

    /// <summary>Gets or sets the fake clock's start time.</summary>
    /// <value>The default is 2000-01-01 00:00 UTC, <c>FakeTimeProvider</c>'s own.</value>
    public DateTimeOffset StartTime { get; set; } = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Gets or sets how many events the harness keeps. Beyond it the oldest are forgotten and counted in
    /// <see cref="BusTestHarness.ForgottenEvents"/>.
    /// </summary>
    /// <value>At least 1. The default is <see cref="DefaultMaxEvents"/> (100,000).</value>
    public int MaxEvents { get; set; } = DefaultMaxEvents;

    /// <summary>
    /// Gets or sets whether the harness keeps the transport the bus is configured with (RabbitMQ, say) instead of the
    /// in-memory one: the same test code then runs against the broker. The bus then keeps the system clock, since a
    /// broker's delays are real (<see cref="BusTestHarness.AdvanceAsync"/> is refused), and
    /// <see cref="BusTestHarness.WaitUntilIdleAsync"/> also waits until the broker holds nothing for the bus's queues.
    /// </summary>
    /// <value>The default is <see langword="false"/>: the in-memory transport and a fake clock.</value>
    public bool KeepTransport { get; set; }
}
