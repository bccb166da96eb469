#if !NET9_0_OR_GREATER
using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// .NET 8's <see cref="PriorityQueue{TElement, TPriority}"/> has no <c>Remove</c>: this extension stands in for it
/// with the same signature, so the call compiles unchanged on both targets (on .NET 9 and later the instance method
/// wins). Like the real one it is O(n): it copies the items out, drops the match, and refills the queue with
/// <c>EnqueueRange</c>, which rebuilds the heap in linear time.
/// </summary>
internal static class PriorityQueueShim
{
    public static bool Remove<TElement, TPriority>(
        this PriorityQueue<TElement, TPriority> queue,
        TElement element,
        [MaybeNullWhen(false)] out TElement removedElement,
        [MaybeNullWhen(false)] out TPriority priority,
        IEqualityComparer<TElement>? equalityComparer = null)
    {
        equalityComparer ??= EqualityComparer<TElement>.Default;
        var items = System.Buffers.ArrayPool<(TElement Element, TPriority Priority)>.Shared.Rent(queue.Count);
        var count = 0;
        var found = -1;
        foreach (var item in queue.UnorderedItems)
        {
            if (found < 0 && equalityComparer.Equals(item.Element, element))
            {
                found = count;
            }

            items[count++] = item;
        }

        try
        {
            if (found < 0)
            {
                removedElement = default;
                priority = default;
                return false;
            }

            (removedElement, priority) = items[found];
            items[found] = items[count - 1];
            queue.Clear();
            queue.EnqueueRange(new ArraySegment<(TElement, TPriority)>(items, 0, count - 1));
            return true;
        }
        finally
        {
            System.Buffers.ArrayPool<(TElement Element, TPriority Priority)>.Shared.Return(items, clearArray: true);
        }
    }
}
#endif
