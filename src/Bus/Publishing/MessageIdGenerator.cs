using System.Security.Cryptography;

namespace Bus;

/// <summary>
/// Creates unique, time-ordered message ids in the UUIDv7 layout (RFC 9562) without allocating, without a
/// cryptographic random call and without a shared atomic per message, each of which would cost more than the rest of
/// a publish.
/// </summary>
/// <remarks>
/// Layout: 48-bit Unix milliseconds, version 7, 12 bits fixed per process (random), variant, then a 62-bit sequence.
/// Each thread takes the sequence in blocks of <see cref="BlockSize"/> from a process-wide counter that starts at a
/// random value, so one interlocked operation serves a thousand ids. Ids are unique in the process, ordered by their
/// millisecond, and within a millisecond ordered per thread; ids from different processes differ in 74 random bits.
/// </remarks>
internal static class MessageIdGenerator
{
    private const long SequenceMask = (1L << 62) - 1;
    private const int BlockSize = 1024;

    private static readonly short s_versionAndNode;
    private static long s_nextBlock;

    [ThreadStatic]
    private static long t_next;

    [ThreadStatic]
    private static long t_end;

    static MessageIdGenerator()
    {
        Span<byte> seed = stackalloc byte[10];
        RandomNumberGenerator.Fill(seed);
        s_versionAndNode = (short)(0x7000 | (BitConverter.ToUInt16(seed) & 0x0FFF));

        // Start in the lower half so the sequence never wraps within a process's lifetime.
        s_nextBlock = (long)(BitConverter.ToUInt64(seed[2..]) & (SequenceMask >> 1));
    }

    public static Guid Next(DateTimeOffset timestamp)
    {
        var sequence = t_next;
        if (sequence == t_end)
        {
            sequence = Interlocked.Add(ref s_nextBlock, BlockSize) - BlockSize;
            t_end = sequence + BlockSize;
        }

        t_next = sequence + 1;
        sequence &= SequenceMask;
        var milliseconds = timestamp.ToUnixTimeMilliseconds();
        return new Guid(
            (int)(milliseconds >> 16),
            (short)milliseconds,
            s_versionAndNode,
            (byte)(0x80 | (int)(sequence >> 56)),
            (byte)(sequence >> 48),
            (byte)(sequence >> 40),
            (byte)(sequence >> 32),
            (byte)(sequence >> 24),
            (byte)(sequence >> 16),
            (byte)(sequence >> 8),
            (byte)sequence);
    }
}
