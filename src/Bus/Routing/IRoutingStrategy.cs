namespace Bus;

/// <summary>
/// Decides which of an exchange's bindings a message matches. Implement it for routing the built-in kinds
/// (<see cref="ExchangeType"/>) do not cover, and declare an exchange with it.
/// </summary>
/// <remarks>
/// An exchange with a user strategy asks <see cref="IsMatch"/> of each of its bindings per publish and delivers one
/// copy to every queue with a matching binding. The built-in strategies also index their bindings (a hash map for
/// direct, a trie for topic) so their cost does not grow with the number of bindings.
/// </remarks>
public interface IRoutingStrategy
{
    /// <summary>Checks a binding before it is added to an exchange that uses this strategy.</summary>
    /// <param name="binding">The binding.</param>
    /// <returns>A description of what is wrong with the binding, or <see langword="null"/> when it is valid.</returns>
    string? Validate(Binding binding);

    /// <summary>Decides whether a message matches a binding. Called concurrently by publishers; must not change state.</summary>
    /// <param name="binding">A binding of the exchange.</param>
    /// <param name="message">The message being routed.</param>
    /// <returns><see langword="true"/> when the message should go to the binding's queue.</returns>
    bool IsMatch(Binding binding, in RoutingContext message);
}
