using System.Diagnostics;

namespace Shop.Telemetry;

/// <summary>
/// What the <c>--otel</c> run must have recorded for CI to trust that tracing works end to end: a message carried its
/// trace through a consumer that published again (publish, process, publish, process, each the parent of the next),
/// and the process spans show the retry and the dead letter the sample's plan produces.
/// </summary>
public static class TraceProof
{
    /// <summary>Lists what is missing from the recorded spans; empty when everything is there.</summary>
    public static IReadOnlyList<string> Missing(TraceTree tree)
    {
        var missing = new List<string>();
        if (!tree.Spans.Any(span => ChainEndsAt(tree, span, [ActivityKind.Consumer, ActivityKind.Producer, ActivityKind.Consumer, ActivityKind.Producer])))
        {
            missing.Add("no publish -> process -> publish -> process chain of parent and child spans");
        }

        // The event names of the bus (TelemetryTags is internal to it); order 4 is retried, order 5 dead-lettered.
        foreach (var name in new[] { "bus.retry", "bus.dead_letter" })
        {
            if (!tree.Spans.Any(span => span.Events.Any(e => e.Name == name)))
            {
                missing.Add($"no span with a {name} event");
            }
        }

        return missing;
    }

    /// <summary>Whether the span and its ancestors have these kinds, the span's first.</summary>
    private static bool ChainEndsAt(TraceTree tree, Activity? span, ReadOnlySpan<ActivityKind> kinds)
    {
        foreach (var kind in kinds)
        {
            if (span is null || span.Kind != kind)
            {
                return false;
            }

            span = tree.Parent(span);
        }

        return true;
    }
}
