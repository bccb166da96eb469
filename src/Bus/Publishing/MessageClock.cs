namespace Bus;

/// <summary>
/// The time stamped on messages. A custom <see cref="TimeProvider"/> (a fake clock in tests) is read on every publish.
/// <see cref="TimeProvider.System"/> is read through the operating system's coarse monotonic tick
/// (<see cref="Environment.TickCount64"/>, 1 to 4 ms resolution) anchored to the wall clock and re-anchored every
/// second: a precise read of the wall clock costs about as much as the rest of a publish.
/// </summary>
internal abstract class MessageClock
{
    public static MessageClock For(TimeProvider time) =>
        ReferenceEquals(time, TimeProvider.System) ? new CoarseSystemClock() : new ProviderClock(time);

    public abstract DateTimeOffset UtcNow();

    private sealed class ProviderClock(TimeProvider time) : MessageClock
    {
        public override DateTimeOffset UtcNow() => time.GetUtcNow();
    }

    private sealed class CoarseSystemClock : MessageClock
    {
        private const long ReanchorMilliseconds = 1000;

        // One immutable anchor swapped whole, so a reader never pairs a tick with another anchor's wall-clock time.
        private volatile Anchor _anchor = Anchor.Now();

        public override DateTimeOffset UtcNow()
        {
            var tick = Environment.TickCount64;
            var anchor = _anchor;
            var elapsed = tick - anchor.Tick;
            if ((ulong)elapsed >= ReanchorMilliseconds)
            {
                _anchor = anchor = Anchor.Now();
                elapsed = 0;
            }

            return new DateTimeOffset(anchor.UtcTicks + (elapsed * TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
        }

        private sealed class Anchor(long tick, long utcTicks)
        {
            public long Tick { get; } = tick;

            public long UtcTicks { get; } = utcTicks;

            public static Anchor Now() => new(Environment.TickCount64, DateTime.UtcNow.Ticks);
        }
    }
}
