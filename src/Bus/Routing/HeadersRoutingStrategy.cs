namespace Bus;

/// <summary>
/// Headers routing (RabbitMQ's headers exchange): binding arguments are matched against message headers.
/// <c>x-match</c> = <c>all</c> (the default) needs every argument to match; <c>any</c> needs at least one. Arguments
/// whose names start with <c>x-</c> are not matched. An argument whose value is <see langword="null"/> matches when the
/// header is present, whatever its value; numbers compare by value (<c>1</c> matches <c>1L</c>).
/// </summary>
public sealed class HeadersRoutingStrategy : IRoutingStrategy
{
    /// <summary>The binding argument that selects <c>all</c> or <c>any</c>.</summary>
    public const string MatchArgument = "x-match";

    private HeadersRoutingStrategy()
    {
    }

    /// <summary>Gets the headers strategy.</summary>
    public static HeadersRoutingStrategy Instance { get; } = new();

    /// <inheritdoc/>
    public string? Validate(Binding binding)
    {
        ArgumentNullException.ThrowIfNull(binding);
        if (binding.Arguments.TryGetValue(MatchArgument, out var mode) && mode is not ("all" or "any"))
        {
            return $"the binding argument '{MatchArgument}' is '{mode}'; it must be 'all' or 'any'";
        }

        foreach (var pair in binding.Arguments)
        {
            if (!HeaderValues.IsSupported(pair.Value))
            {
                return $"the binding argument '{pair.Key}' has a value of type {pair.Value!.GetType()}, which headers cannot carry";
            }
        }

        return null;
    }

    /// <inheritdoc/>
    public bool IsMatch(Binding binding, in RoutingContext message)
    {
        ArgumentNullException.ThrowIfNull(binding);
        var matchAny = binding.Arguments.TryGetValue(MatchArgument, out var mode) && mode is "any";
        foreach (var pair in binding.Arguments)
        {
            if (pair.Key.StartsWith("x-", StringComparison.Ordinal))
            {
                continue;
            }

            var matched = message.Headers.TryGetValue(pair.Key, out var value)
                && (pair.Value is null || HeaderValues.AreEqual(pair.Value, value));
            if (matched && matchAny)
            {
                return true;
            }

            if (!matched && !matchAny)
            {
                return false;
            }
        }

        return !matchAny;
    }
}
