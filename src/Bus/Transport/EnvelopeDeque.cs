using System.Diagnostics;

namespace Bus;

/// <summary>
/// A growable ring of envelopes that can be taken from either end: the front for delivery, the back when a full queue
/// drops its newest message. Not thread-safe; its owner locks.
/// </summary>
[DebuggerDisplay("Count = {Count}")]
internal sealed class EnvelopeDeque
{
    private Envelope[] _items = [];
    private int _head;

    public int Count { get; private set; }

    public void PushBack(in Envelope envelope)
    {
        if (Count == _items.Length)
        {
            Grow();
        }

        _items[(_head + Count) % _items.Length] = envelope;
        Count++;
    }

    public ref readonly Envelope PeekFront() => ref _items[_head];

    public Envelope PopFront()
    {
        Debug.Assert(Count > 0, "Popped an empty deque.");
        var envelope = _items[_head];
        _items[_head] = default;
        _head = (_head + 1) % _items.Length;
        Count--;
        return envelope;
    }

    public Envelope PopBack()
    {
        Debug.Assert(Count > 0, "Popped an empty deque.");
        var index = (_head + Count - 1) % _items.Length;
        var envelope = _items[index];
        _items[index] = default;
        Count--;
        return envelope;
    }

    private void Grow()
    {
        var grown = new Envelope[Math.Max(4, _items.Length * 2)];
        for (var i = 0; i < Count; i++)
        {
            grown[i] = _items[(_head + i) % _items.Length];
        }

        _items = grown;
        _head = 0;
    }
}
