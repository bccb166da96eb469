using Bus.Tests.Support;

namespace Bus.Tests.Routing;

/// <summary>
/// What every routing strategy must do, built in or a user's: an exchange that uses it delivers exactly one copy to
/// every queue with a binding the strategy matches, and none to the others, however the bindings are spread.
/// </summary>
public abstract class RoutingStrategyContract
{
    protected abstract IRoutingStrategy Strategy { get; }

    /// <summary>Bindings as key and arguments; several may point at one queue.</summary>
    protected abstract IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings { get; }

    /// <summary>Messages as routing key and headers.</summary>
    protected abstract IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages { get; }

    [Fact]
    public async Task An_exchange_delivers_one_copy_to_each_queue_with_a_matching_binding()
    {
        const int Queues = 4;
        var bindings = Bindings.Select((b, i) => new Binding("x", $"q{i % Queues}", b.Key, b.Arguments)).ToList();
        await using var bus = await TestBus.StartAsync(builder =>
        {
            builder.AddExchange("x", Strategy);
            for (var q = 0; q < Queues; q++)
            {
                builder.AddQueue($"q{q}");
            }

            foreach (var binding in bindings)
            {
                if (binding.Arguments.Count > 0)
                {
                    builder.Bind("x", binding.Queue, binding.Arguments);
                }
                else
                {
                    builder.Bind("x", binding.Queue, binding.RoutingKey);
                }
            }
        });
        var declared = bus.Bus.Topology.GetBindings("x");

        var expected = new long[Queues];
        foreach (var (key, headers) in Messages)
        {
            var message = new RoutingContext(typeof(Animal), key, headers ?? new Dictionary<string, object?>());
            for (var q = 0; q < Queues; q++)
            {
                if (declared.Any(b => b.Queue == $"q{q}" && Strategy.IsMatch(b, message)))
                {
                    expected[q]++;
                }
            }

            await bus.Publisher.PublishAsync(new Animal(key), new PublishOptions { Exchange = "x", RoutingKey = key, Headers = headers });
        }

        bus.Bus.GetStatistics().Queues.Select(q => q.Enqueued).Should().Equal(expected);
        expected.Sum().Should().BeGreaterThan(0, "the cases must route something");
    }

    [Fact]
    public void Matching_is_safe_to_call_from_many_publishers_at_once()
    {
        var bindings = Bindings.Select(b => new Binding("x", "q", b.Key, b.Arguments)).ToList();
        var messages = Messages.Select(m => new RoutingContext(typeof(Animal), m.Key, m.Headers ?? new Dictionary<string, object?>())).ToList();
        var expected = messages.Select(m => bindings.Select(b => Strategy.IsMatch(b, m)).ToArray()).ToArray();

        Parallel.For(0, 8, _ =>
        {
            for (var round = 0; round < 50; round++)
            {
                for (var m = 0; m < messages.Count; m++)
                {
                    for (var b = 0; b < bindings.Count; b++)
                    {
                        Strategy.IsMatch(bindings[b], messages[m]).Should().Be(expected[m][b]);
                    }
                }
            }
        });
    }

    [Fact]
    public void The_contract_cases_are_valid_bindings()
    {
        Bindings.Should().AllSatisfy(b => Strategy.Validate(new Binding("x", "q", b.Key, b.Arguments)).Should().BeNull());
    }
}

public sealed class FanoutRoutingContract : RoutingStrategyContract
{
    protected override IRoutingStrategy Strategy => FanoutRoutingStrategy.Instance;

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings =>
        [("", null), ("a", null), ("", null)];

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages =>
        [("", null), ("a", null), ("b.c", null)];
}

public sealed class DirectRoutingContract : RoutingStrategyContract
{
    protected override IRoutingStrategy Strategy => DirectRoutingStrategy.Instance;

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings =>
        [("error", null), ("info", null), ("error", null), ("warn", null), ("info", null), ("", null)];

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages =>
        [("error", null), ("info", null), ("debug", null), ("", null), ("Error", null)];
}

public sealed class TopicRoutingContract : RoutingStrategyContract
{
    protected override IRoutingStrategy Strategy => TopicRoutingStrategy.Instance;

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings =>
        [("*.orange.*", null), ("*.*.rabbit", null), ("lazy.#", null), ("#", null), ("a.#.b", null), ("*", null), ("lazy.*", null), ("", null)];

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages =>
        [("quick.orange.rabbit", null), ("lazy.pink.rabbit", null), ("quick.brown.fox", null), ("lazy", null), ("a.x.y.b", null), ("", null), ("a", null)];
}

public sealed class HeadersRoutingContract : RoutingStrategyContract
{
    protected override IRoutingStrategy Strategy => HeadersRoutingStrategy.Instance;

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings =>
    [
        ("", new Dictionary<string, object?> { ["format"] = "pdf", ["type"] = "report" }),
        ("", new Dictionary<string, object?> { ["x-match"] = "any", ["format"] = "pdf", ["type"] = "log" }),
        ("", new Dictionary<string, object?> { ["x-match"] = "all", ["priority"] = 1 }),
        ("", new Dictionary<string, object?> { ["trace"] = null }),
    ];

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages =>
    [
        ("", new Dictionary<string, object?> { ["format"] = "pdf", ["type"] = "report" }),
        ("", new Dictionary<string, object?> { ["format"] = "zip", ["type"] = "log" }),
        ("", new Dictionary<string, object?> { ["priority"] = 1L, ["trace"] = "t" }),
        ("", null),
    ];
}

public sealed class UserRoutingContract : RoutingStrategyContract
{
    protected override IRoutingStrategy Strategy { get; } = new SuffixRouting();

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Arguments)> Bindings =>
        [(".eu", null), (".us", null), ("-1.eu", null)];

    protected override IReadOnlyList<(string Key, IReadOnlyDictionary<string, object?>? Headers)> Messages =>
        [("order-1.eu", null), ("order-2.us", null), ("order-3.asia", null)];

    /// <summary>A user strategy: a queue gets messages whose routing key ends with its binding key.</summary>
    private sealed class SuffixRouting : IRoutingStrategy
    {
        public string? Validate(Binding binding) => binding.RoutingKey.Length == 0 ? "a suffix must not be empty" : null;

        public bool IsMatch(Binding binding, in RoutingContext message) =>
            message.RoutingKey.EndsWith(binding.RoutingKey, StringComparison.Ordinal);
    }
}
