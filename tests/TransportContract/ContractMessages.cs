namespace Bus.TransportContract;

/// <summary>
/// A unit of work whose plan travels with it, so that one consumer serves every test: wait at the probe's gate first
/// (<paramref name="Gated"/>), reject it (<paramref name="Reject"/>), or fail its first <paramref name="Failures"/>
/// attempts (<see cref="int.MaxValue"/>: every attempt).
/// </summary>
public sealed record Work(int Id, int Failures = 0, bool Gated = false, bool Reject = false);

/// <summary>A request: answered with <see cref="Answer"/>, or (with <paramref name="Fail"/>) its consumer throws.</summary>
public sealed record Question(int Id, bool Fail = false);

/// <summary>The response to a <see cref="Question"/>.</summary>
public sealed record Answer(int Id, int Value);

/// <summary>Opens the probe's gate when consumed: a test schedules one to let the bus's own clock move on.</summary>
public sealed record Tick;

/// <summary>
/// Sent to a queue after the messages a test routed: a queue delivers its messages in order, so once its marker is
/// consumed, whatever was routed to it before has been consumed (or has ended) too.
/// </summary>
public sealed record Marker(string Queue);
