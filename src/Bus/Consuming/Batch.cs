using System.Collections;
using System.Diagnostics;

namespace Bus;

/// <summary>The messages of one batch, with their envelopes.</summary>
/// <typeparam name="TMessage">The message type.</typeparam>
/// <remarks>
/// The bus reuses batch objects so that consuming allocates nothing per batch: a batch is valid only until the
/// consumer's task completes. Copy what you need to keep (for example with <c>batch.ToArray()</c>).
/// </remarks>
[DebuggerDisplay("Batch of {Count} from {Queue,nq}")]
public sealed class Batch<TMessage> : BatchConsumeContext, IReadOnlyList<TMessage>
{
    private readonly TMessage[] _messages;

    internal Batch(string queue, int capacity)
        : base(queue)
    {
        _messages = new TMessage[capacity];
    }

    /// <summary>Gets a message.</summary>
    /// <param name="index">From 0 to <see cref="BatchConsumeContext.Count"/> - 1.</param>
    /// <returns>The message.</returns>
    public TMessage this[int index]
    {
        get
        {
            ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
            return _messages[index];
        }
    }

    /// <summary>Gets an enumerator of the messages that allocates nothing.</summary>
    /// <returns>The enumerator.</returns>
    public Enumerator GetEnumerator() => new(this);

    IEnumerator<TMessage> IEnumerable<TMessage>.GetEnumerator()
    {
        for (var i = 0; i < Count; i++)
        {
            yield return _messages[i];
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<TMessage>)this).GetEnumerator();

    internal void Initialize(Envelope[] envelopes, int count)
    {
        Debug.Assert(count <= _messages.Length, "A batch larger than its maximum size.");
        Envelopes = envelopes;
        for (var i = 0; i < count; i++)
        {
            _messages[i] = (TMessage)envelopes[i].Message;
        }

        Array.Clear(_messages, count, Count > count ? Count - count : 0);
        Count = count;
    }

    /// <summary>Enumerates the messages of a batch.</summary>
    public struct Enumerator
    {
        private readonly Batch<TMessage> _batch;
        private int _index;

        internal Enumerator(Batch<TMessage> batch)
        {
            _batch = batch;
            _index = -1;
        }

        /// <summary>Gets the current message.</summary>
        public readonly TMessage Current => _batch._messages[_index];

        /// <summary>Moves to the next message.</summary>
        /// <returns><see langword="false"/> after the last one.</returns>
        public bool MoveNext() => ++_index < _batch.Count;
    }
}
