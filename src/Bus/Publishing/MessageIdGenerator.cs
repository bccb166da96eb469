using System.Security.Cryptography;

namespace Bus;

/// <summary>
/// Creates unique, time-ordered message ids in the UUIDv7 layout (RFC 9562) without allocating and without a
/// cryptographic random call per message, which would cost more than the rest of a publish.
/// </summary>
/// <remarks>
/// Layout: 48-bit Unix milliseconds, version 7, 12 bits fixed per generator (random), variant, then a 62-bit counter
/// that starts at a random value and is incremented atomically. Ids from one generator therefore sort in creation
/// order within a millisecond as well as across milliseconds, and ids from different processes differ in 74 random bits.
/// </remarks>
internal sealed class MessageIdGenerator
{
    private const long CounterMask = (1L << 62) - 1;

    private readonly short _versionAndNode;
    private long _counter;

    public MessageIdGenerator()
    {
        Span<byte> seed = stackalloc byte[10];
        RandomNumberGenerator.Fill(seed);
        _versionAndNode = (short)(0x7000 | (BitConverter.ToUInt16(seed) & 0x0FFF));
        // Start in the lower half so the counter never wraps within a process's lifetime.
        _counter = (long)(BitConverter.ToUInt64(seed[2..]) & (CounterMask >> 1));
    }

    public Guid Next(DateTimeOffset timestamp)
    {
        var milliseconds = timestamp.ToUnixTimeMilliseconds();
        var counter = Interlocked.Increment(ref _counter) & CounterMask;
        return new Guid(
            (int)(milliseconds >> 16),
            (short)milliseconds,
            _versionAndNode,
            (byte)(0x80 | (int)(counter >> 56)),
            (byte)(counter >> 48),
            (byte)(counter >> 40),
            (byte)(counter >> 32),
            (byte)(counter >> 24),
            (byte)(counter >> 16),
            (byte)(counter >> 8),
            (byte)counter);
    }
}
