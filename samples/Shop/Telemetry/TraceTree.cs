using System.Diagnostics;
using System.Globalization;

namespace Shop.Telemetry;

/// <summary>
/// Finished spans arranged by parent and child: the bus links a consumer's span to the publish that sent its message
/// through the <c>traceparent</c> header, so one order's publish, its deliveries and what they published in turn form
/// one tree.
/// </summary>
public sealed class TraceTree
{
    private readonly Dictionary<ActivitySpanId, Activity> _byId;
    private readonly ILookup<ActivitySpanId, Activity> _children;

    public TraceTree(IEnumerable<Activity> spans)
    {
        _byId = spans.ToDictionary(s => s.SpanId);
        _children = _byId.Values.OrderBy(s => s.StartTimeUtc).ToLookup(s => s.ParentSpanId);
    }

    /// <summary>Gets the spans whose parent was not recorded (a publish from outside any span), first started first.</summary>
    public IEnumerable<Activity> Roots => _byId.Values.Where(s => Parent(s) is null).OrderBy(s => s.StartTimeUtc);

    public IEnumerable<Activity> Spans => _byId.Values;

    public Activity? Parent(Activity span) => _byId.GetValueOrDefault(span.ParentSpanId);

    public IEnumerable<Activity> Children(Activity span) => _children[span.SpanId];

    /// <summary>Writes each trace as an indented tree, one span a line, with what went wrong and the bus's events.</summary>
    public void Render(TextWriter output)
    {
        foreach (var root in Roots)
        {
            output.WriteLine($"trace {root.TraceId}");
            Render(output, root, depth: 1);
        }
    }

    private void Render(TextWriter output, Activity span, int depth)
    {
        output.WriteLine($"{new string(' ', depth * 2)}{span.DisplayName}{Details(span)}");
        foreach (var child in Children(span))
        {
            Render(output, child, depth + 1);
        }
    }

    /// <summary>
    /// The attempt, when it was not the first; the failure; and the retry or dead letter the bus decided, with its tags
    /// by their last name part (a dead letter's description is left out: it repeats the failure).
    /// </summary>
    private static string Details(Activity span)
    {
        var details = new List<string>();
        if (span.GetTagItem("bus.message.delivery_count") is int attempt and > 1)
        {
            details.Add($"attempt {attempt}");
        }

        if (span.Status == ActivityStatusCode.Error)
        {
            details.Add($"failed: {span.StatusDescription}");
        }

        // The bus's own events; "exception" is left out, the status above already says what failed.
        foreach (var e in span.Events.Where(e => e.Name.StartsWith("bus.", StringComparison.Ordinal)))
        {
            details.Add(e.Name + string.Concat(e.Tags.Where(t => !t.Key.EndsWith(".description", StringComparison.Ordinal))
                .Select(t => string.Create(CultureInfo.InvariantCulture, $" {t.Key[(t.Key.LastIndexOf('.') + 1)..]}={t.Value}"))));
        }

        return details.Count == 0 ? "" : $"  [{string.Join("; ", details)}]";
    }
}
