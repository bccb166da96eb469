using Bus.Tests.Support;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Topology;

public sealed class NamingConventionTests
{
    private const string JobExchange = "bus.tests.support.job";
    private const string JobConsumerQueue = "bus.tests.support.recording-consumer[bus.tests.support.job]";

    [Fact]
    public void Kebab_case_names_keep_the_namespace_and_the_containing_type()
    {
        var names = BusNamingConvention.KebabCase();

        names.GetQueueName(typeof(PaymentService)).Should().Be("bus.tests.topology.naming-convention-tests.payment-service");
        names.GetExchangeName(typeof(HTTPRequestReceived)).Should().Be("bus.tests.topology.naming-convention-tests.http-request-received");
    }

    [Fact]
    public void Kebab_case_names_list_generic_arguments()
    {
        BusNamingConvention.KebabCase().GetQueueName(typeof(RecordingConsumer<Job>)).Should().Be(JobConsumerQueue);
    }

    [Fact]
    public void A_prefix_comes_first_as_given()
    {
        BusNamingConvention.KebabCase("eu").GetExchangeName(typeof(Job)).Should().Be("eu." + JobExchange);
    }

    [Fact]
    public void The_default_names_are_full_type_names()
    {
        BusNamingConvention.FullName.GetQueueName(typeof(PaymentService)).Should().Be(typeof(PaymentService).FullName);
        BusNamingConvention.FullName.GetExchangeName(typeof(Job)).Should().Be(typeof(Job).FullName);
    }

    [Fact]
    public async Task UseKebabCaseNames_names_the_default_queues_and_exchanges_of_the_whole_bus()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .UseKebabCaseNames()
            .AddConsumer<RecordingConsumer<Job>>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Bus.Topology.Queues.Should().Equal(JobConsumerQueue);
        bus.Bus.Topology.GetExchangeName<Job>().Should().Be(JobExchange);
        bus.Recorder.All.Should().ContainSingle().Which.Queue.Should().Be(JobConsumerQueue);
    }

    [Fact]
    public async Task A_message_type_first_published_at_run_time_gets_a_convention_name()
    {
        await using var bus = await TestBus.StartAsync(b => b.UseKebabCaseNames("shop"));

        await bus.Publisher.PublishAsync(new Ping(1));

        bus.Bus.Topology.Exchanges.Should().Contain("shop.bus.tests.support.ping");
    }

    [Fact]
    public async Task Names_given_explicitly_are_never_rewritten()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .UseKebabCaseNames("shop")
            .AddExchange("Shop.Events", ExchangeType.Topic)
            .MapMessage<OrderPlaced>("Shop.Events")
            .AddQueue("Orders_Queue")
            .Bind<OrderPlaced>("Orders_Queue", "#")
            .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "Orders_Queue")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "JobsByHand"));

        bus.Bus.Topology.Queues.Should().BeEquivalentTo("Orders_Queue", "JobsByHand");
        bus.Bus.Topology.GetExchangeName<OrderPlaced>().Should().Be("Shop.Events");
    }

    [Fact]
    public async Task A_replacement_reads_the_queue_the_convention_names_after_the_replaced_consumer_whenever_it_is_set()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<PaymentService>()
            .ReplaceConsumer<PaymentService, RecordingConsumer<Job>>()
            .UseKebabCaseNames());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Should().ContainSingle().Which.Queue.Should().Be("bus.tests.topology.naming-convention-tests.payment-service");
    }

    [Fact]
    public void Two_message_types_a_convention_gives_one_exchange_name_fail_the_start_naming_both()
    {
        // Kebab case makes HTTPRequestReceived and HttpRequestReceived both "...http-request-received": they would share
        // an exchange and each queue would get the other's messages.
        var create = () => TestBus.Create(b => b.UseKebabCaseNames().AddConsumer<HttpConsumer>());

        var failure = create.Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle().Subject;

        failure.Should().Contain(nameof(HTTPRequestReceived)).And.Contain(nameof(HttpRequestReceived)).And.Contain("http-request-received").And.Contain("MapMessage");
    }

    [Fact]
    public void A_convention_that_gives_no_name_fails_the_start()
    {
        var create = () => TestBus.Create(b => b
            .UseNamingConvention(new NamelessConvention())
            .AddConsumer<RecordingConsumer<Job>>()
            .AddQueue("jobs")
            .Bind<Job>("jobs"));

        var failures = create.Should().Throw<OptionsValidationException>().Which.Failures.ToList();

        failures.Should().HaveCount(2);
        failures.Should().Contain(f => f.Contains("gave no queue name") && f.Contains("RecordingConsumer"));
        failures.Should().Contain(f => f.Contains("gave no exchange name") && f.Contains(nameof(Job)));
    }

    [Fact]
    public void An_empty_prefix_is_refused()
    {
        var create = () => BusNamingConvention.KebabCase(" ");

        create.Should().Throw<ArgumentException>().WithParameterName("prefix");
    }

    public sealed class PaymentService : IConsumer<Job>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }

    public sealed record HTTPRequestReceived(string Path);

    public sealed record HttpRequestReceived(string Path);

    public sealed class HttpConsumer : IConsumer<HTTPRequestReceived>, IConsumer<HttpRequestReceived>
    {
        public ValueTask ConsumeAsync(ConsumeContext<HTTPRequestReceived> context, CancellationToken cancellationToken) => default;

        public ValueTask ConsumeAsync(ConsumeContext<HttpRequestReceived> context, CancellationToken cancellationToken) => default;
    }

    public sealed class NamelessConvention : BusNamingConvention
    {
        public override string GetExchangeName(Type messageType) => string.Empty;

        public override string GetQueueName(Type consumerType) => string.Empty;
    }
}
