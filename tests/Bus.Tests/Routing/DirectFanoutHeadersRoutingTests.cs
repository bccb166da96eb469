using Bus.Tests.Support;

namespace Bus.Tests.Routing;

public sealed class DirectFanoutHeadersRoutingTests
{
    private static async Task<BusStatistics> PublishAsync(Action<IMessageBusBuilder> topology, PublishOptions options)
    {
        await using var bus = await TestBus.StartAsync(topology);
        await bus.Publisher.PublishAsync(new Animal("x"), options);
        return bus.Bus.GetStatistics();
    }

    [Fact]
    public async Task Direct_exchange_delivers_to_queues_bound_with_the_exact_key()
    {
        // RabbitMQ tutorial 4: "error" goes to both queues, "info" only to the one bound with it.
        Action<IMessageBusBuilder> topology = b => b
            .AddExchange("logs", ExchangeType.Direct)
            .AddQueue("disk").AddQueue("console")
            .Bind("logs", "disk", "error")
            .Bind("logs", "console", "error").Bind("logs", "console", "info");

        var error = await PublishAsync(topology, new PublishOptions { Exchange = "logs", RoutingKey = "error" });
        var info = await PublishAsync(topology, new PublishOptions { Exchange = "logs", RoutingKey = "info" });
        var errors = await PublishAsync(topology, new PublishOptions { Exchange = "logs", RoutingKey = "errors" });

        (error.GetQueue("disk").Enqueued, error.GetQueue("console").Enqueued).Should().Be((1L, 1L));
        (info.GetQueue("disk").Enqueued, info.GetQueue("console").Enqueued).Should().Be((0L, 1L));
        (errors.GetQueue("disk").Enqueued, errors.GetQueue("console").Enqueued).Should().Be((0L, 0L));
        errors.Unroutable.Should().Be(1);
    }

    [Fact]
    public async Task Fanout_exchange_delivers_to_every_bound_queue_whatever_the_key()
    {
        var statistics = await PublishAsync(
            b => b.AddExchange("news", ExchangeType.Fanout).AddQueue("a").AddQueue("b").AddQueue("c")
                .Bind("news", "a").Bind("news", "b", "ignored").Bind("news", "c"),
            new PublishOptions { Exchange = "news", RoutingKey = "anything" });

        statistics.Queues.Select(q => q.Enqueued).Should().Equal(1, 1, 1);
    }

    [Theory]
    [InlineData("all", true, false)]
    [InlineData("any", true, true)]
    public async Task Headers_exchange_matches_all_or_any_of_the_binding_arguments(string match, bool bothMatch, bool oneMatches)
    {
        Action<IMessageBusBuilder> topology = b => b
            .AddExchange("h", ExchangeType.Headers)
            .AddQueue("q")
            .Bind("h", "q", new Dictionary<string, object?> { ["x-match"] = match, ["format"] = "pdf", ["type"] = "report" });

        var both = await PublishAsync(topology, new PublishOptions
        {
            Exchange = "h",
            Headers = new Dictionary<string, object?> { ["format"] = "pdf", ["type"] = "report", ["extra"] = 1 },
        });
        var one = await PublishAsync(topology, new PublishOptions
        {
            Exchange = "h",
            Headers = new Dictionary<string, object?> { ["format"] = "pdf", ["type"] = "log" },
        });

        both.GetQueue("q").Enqueued.Should().Be(bothMatch ? 1 : 0);
        one.GetQueue("q").Enqueued.Should().Be(oneMatches ? 1 : 0);
    }

    [Fact]
    public void Headers_matching_ignores_x_arguments_treats_null_as_presence_and_compares_numbers_by_value()
    {
        var binding = new Binding("h", "q", arguments: new Dictionary<string, object?> { ["x-match"] = "all", ["x-custom"] = "ignored", ["id"] = 1, ["trace"] = null });
        RoutingContext Message(params (string Key, object? Value)[] headers) =>
            new(typeof(Animal), string.Empty, headers.ToDictionary(h => h.Key, h => h.Value));

        HeadersRoutingStrategy.Instance.IsMatch(binding, Message(("id", 1L), ("trace", "abc"))).Should().BeTrue();
        HeadersRoutingStrategy.Instance.IsMatch(binding, Message(("id", 2), ("trace", "abc"))).Should().BeFalse();
        HeadersRoutingStrategy.Instance.IsMatch(binding, Message(("id", 1))).Should().BeFalse("'trace' must be present");
    }

    [Fact]
    public void Headers_binding_with_an_unknown_x_match_is_invalid()
    {
        var binding = new Binding("h", "q", arguments: new Dictionary<string, object?> { ["x-match"] = "most" });

        HeadersRoutingStrategy.Instance.Validate(binding).Should().Contain("x-match").And.Contain("most");
    }

    [Fact]
    public async Task A_user_routing_strategy_decides_which_bindings_match()
    {
        var statistics = await PublishAsync(
            b => b.AddExchange("prefix", new PrefixRouting()).AddQueue("eu").AddQueue("us")
                .Bind("prefix", "eu", "eu-").Bind("prefix", "us", "us-"),
            new PublishOptions { Exchange = "prefix", RoutingKey = "eu-west-1" });

        (statistics.GetQueue("eu").Enqueued, statistics.GetQueue("us").Enqueued).Should().Be((1L, 0L));
    }

    [Fact]
    public void Bindings_a_user_strategy_rejects_fail_validation()
    {
        var create = () => TestBus.Create(b => b.AddExchange("prefix", new PrefixRouting()).AddQueue("q").Bind("prefix", "q", string.Empty));

        create.Should().Throw<Microsoft.Extensions.Options.OptionsValidationException>()
            .Which.Failures.Should().ContainSingle(f => f.Contains("a prefix must not be empty"));
    }

    /// <summary>Routes by routing-key prefix: a strategy of the kind users write.</summary>
    private sealed class PrefixRouting : IRoutingStrategy
    {
        public string? Validate(Binding binding) => binding.RoutingKey.Length == 0 ? "a prefix must not be empty" : null;

        public bool IsMatch(Binding binding, in RoutingContext message) =>
            message.RoutingKey.StartsWith(binding.RoutingKey, StringComparison.Ordinal);
    }
}
