#if !NET9_0_OR_GREATER
using System.Diagnostics.CodeAnalysis;

namespace Bus;

/// <summary>
/// .NET 8's <see cref="PriorityQueue{TElement, TPriority}"/> has no <c>Remove</c>: this extension stands in for it
/// with the same signature, so the call compiles unchanged on both targets (on .NET 9 and later the instance method
/// wins). It rebuilds the heap, O(n log n); removals are cancellations of scheduled messages, which are rare.
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
        var kept = new List<(TElement Element, TPriority Priority)>(queue.Count);
        removedElement = default;
        priority = default;
        var found = false;
        while (queue.TryDequeue(out var next, out var nextPriority))
        {
            if (!found && equalityComparer.Equals(next, element))
            {
                (removedElement, priority, found) = (next, nextPriority, true);
            }
            else
            {
                kept.Add((next, nextPriority));
            }
        }

        queue.EnqueueRange(kept);
        return found;
    }
}
#endif
