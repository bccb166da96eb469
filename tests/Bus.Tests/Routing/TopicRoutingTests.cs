using Bus.Tests.Support;

namespace Bus.Tests.Routing;

public sealed class TopicRoutingTests
{
    // RabbitMQ tutorial 5 ("Topics"): Q1 is bound with "*.orange.*", Q2 with "*.*.rabbit" and "lazy.#".
    [Theory]
    [InlineData("quick.orange.rabbit", true, true)]
    [InlineData("lazy.orange.elephant", true, true)]
    [InlineData("quick.orange.fox", true, false)]
    [InlineData("lazy.brown.fox", false, true)]
    [InlineData("lazy.pink.rabbit", false, true)]
    [InlineData("quick.brown.fox", false, false)]
    [InlineData("orange", false, false)]
    [InlineData("quick.orange.new.rabbit", false, false)]
    [InlineData("lazy.orange.new.rabbit", false, true)]
    [InlineData("lazy", false, true)]
    public async Task Topic_exchange_routes_the_RabbitMQ_tutorial_examples(string routingKey, bool toQ1, bool toQ2)
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("topic_logs", ExchangeType.Topic)
            .AddQueue("Q1")
            .AddQueue("Q2")
            .Bind("topic_logs", "Q1", "*.orange.*")
            .Bind("topic_logs", "Q2", "*.*.rabbit")
            .Bind("topic_logs", "Q2", "lazy.#"));

        await bus.Publisher.PublishAsync(new Animal(routingKey), new PublishOptions { Exchange = "topic_logs", RoutingKey = routingKey });

        var statistics = bus.Bus.GetStatistics();
        statistics.GetQueue("Q1").Enqueued.Should().Be(toQ1 ? 1 : 0);
        statistics.GetQueue("Q2").Enqueued.Should().Be(toQ2 ? 1 : 0, "a queue matched by two bindings still gets one copy");
    }

    [Theory]
    [InlineData("#", "", true)]
    [InlineData("#", "a.b.c", true)]
    [InlineData("*", "", false)]
    [InlineData("*", "a", true)]
    [InlineData("*", "a.b", false)]
    [InlineData("a.#", "a", true)]
    [InlineData("a.#.b", "a.b", true)]
    [InlineData("a.#.b", "a.x.y.b", true)]
    [InlineData("a.#.b", "a.x.y", false)]
    [InlineData("#.a", "a", true)]
    [InlineData("#.#", "x", true)]
    [InlineData("a.*.b", "a..b", true)]
    [InlineData("", "", true)]
    [InlineData("", "a", false)]
    [InlineData("a.b", "a.b.c", false)]
    [InlineData("*.#.*", "a", false)]
    [InlineData("*.#.*", "a.b", true)]
    public void Topic_wildcards_match_like_RabbitMQ(string pattern, string key, bool matches)
    {
        var binding = new Binding("x", "q", pattern);

        TopicRoutingStrategy.Instance.IsMatch(binding, new RoutingContext(typeof(Animal), key, new Dictionary<string, object?>()))
            .Should().Be(matches);
    }

    [Theory]
    [InlineData("a..b")]
    [InlineData(".a")]
    [InlineData("a.")]
    [InlineData("a*")]
    [InlineData("#b.c")]
    [InlineData("a.b*c")]
    public void Malformed_topic_patterns_are_named_by_the_strategy(string pattern)
    {
        TopicRoutingStrategy.Instance.Validate(new Binding("x", "q", pattern)).Should().Contain(pattern);
    }

    [Theory]
    [InlineData("")]
    [InlineData("#")]
    [InlineData("order.*")]
    [InlineData("a.*.#.b")]
    public void Well_formed_topic_patterns_are_accepted(string pattern)
    {
        TopicRoutingStrategy.Instance.Validate(new Binding("x", "q", pattern)).Should().BeNull();
    }

    [Fact]
    public async Task Topic_trie_agrees_with_the_reference_matcher_on_random_patterns_and_keys()
    {
        var random = new Random(20261125);
        string[] words = ["a", "b", "c"];
        string Word(bool pattern) => random.Next(pattern ? 5 : 3) switch { 3 => "*", 4 => "#", var i => words[i] };
        string Key(bool pattern) => string.Join('.', Enumerable.Range(0, random.Next(pattern ? 1 : 0, 5)).Select(_ => Word(pattern)));

        var patterns = Enumerable.Range(0, 60).Select(_ => Key(pattern: true)).Distinct().ToArray();
        await using var bus = await TestBus.StartAsync(b =>
        {
            b.AddExchange("t", ExchangeType.Topic);
            for (var i = 0; i < patterns.Length; i++)
            {
                b.AddQueue($"q{i}").Bind("t", $"q{i}", patterns[i]);
            }
        });

        var published = new int[patterns.Length];
        for (var n = 0; n < 400; n++)
        {
            var key = Key(pattern: false);
            await bus.Publisher.PublishAsync(new Animal(key), new PublishOptions { Exchange = "t", RoutingKey = key });
            for (var i = 0; i < patterns.Length; i++)
            {
                if (TopicPattern.IsMatch(patterns[i], key))
                {
                    published[i]++;
                }
            }
        }

        var statistics = bus.Bus.GetStatistics();
        for (var i = 0; i < patterns.Length; i++)
        {
            statistics.GetQueue($"q{i}").Enqueued.Should().Be(published[i], $"pattern '{patterns[i]}' must match the same keys in the trie as in the reference");
        }
    }

    [Fact]
    public async Task Consumer_binds_its_queue_to_a_topic_exchange_with_a_pattern()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddExchange("shop", ExchangeType.Topic)
            .MapMessage<OrderPlaced>("shop")
            .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Bind<OrderPlaced>("order.eu.*")));

        await bus.Publisher.PublishAsync(new OrderPlaced(1), "order.eu.created");
        await bus.Publisher.PublishAsync(new OrderPlaced(2), "order.us.created");
        await bus.IdleAsync();

        bus.Recorder.Messages<OrderPlaced>().Should().Equal(new OrderPlaced(1));
    }
}
