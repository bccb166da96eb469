namespace Bus.Benchmarks;

/// <summary>Messages per benchmark invocation. Peers are slower, so they get fewer; results are per message either way.</summary>
public static class Sizes
{
    public const int Messages = 200_000;
    public const int PeerMessages = 20_000;
}
