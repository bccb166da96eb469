using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Hosting;

public sealed class RegistrationTests
{
    [Fact]
    public void Calling_AddMessageBus_twice_registers_one_bus_and_one_hosted_service()
    {
        var services = new ServiceCollection().AddLogging();
        services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<Job>>());
        services.AddMessageBus(b => b.AddConsumer<RecordingConsumer<OrderPlaced>>());
        services.AddSingleton<Recorder>();
        using var provider = services.BuildServiceProvider();

        provider.GetServices<IHostedService>().Should().ContainSingle();
        provider.GetServices<IMessageBus>().Should().ContainSingle();
        provider.GetRequiredService<IPublisher>().Should().BeSameAs(provider.GetRequiredService<IMessageBus>());
        provider.GetRequiredService<IMessageBus>().Topology.Queues.Should().HaveCount(2);
    }

    [Fact]
    public void Validation_lists_every_problem_in_one_exception()
    {
        var create = () => TestBus.Create(b => b
            .AddQueue("tiny", q => q.Capacity = 0)
            .Bind("missing", "tiny")
            .AddExchange("t", ExchangeType.Topic)
            .Bind("t", "tiny", "order..created")
            .AddConsumer<NotAConsumer>());

        var failures = create.Should().Throw<OptionsValidationException>().Which.Failures.ToList();

        failures.Should().HaveCount(4);
        failures.Should().Contain(f => f.Contains("'tiny'") && f.Contains("Capacity"));
        failures.Should().Contain(f => f.Contains("'missing'") && f.Contains("not declared"));
        failures.Should().Contain(f => f.Contains("order..created"));
        failures.Should().Contain(f => f.Contains(nameof(NotAConsumer)) && f.Contains("implements no IConsumer<T>"));
    }

    [Fact]
    public async Task A_host_validates_the_topology_when_it_starts()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMessageBus(b => b.AddQueue("q", q => q.Concurrency = 0));
        using var host = builder.Build();

        var start = async () => await host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Message.Should().Contain("Concurrency");
    }

    [Fact]
    public void Two_consumer_types_for_one_message_on_one_queue_are_refused()
    {
        var create = () => TestBus.Create(b => b
            .AddQueue("shared")
            .AddConsumer<RecordingConsumer<Job>>(c => c.Queue = "shared")
            .AddConsumer<GatedConsumer<Job>>(c => c.Queue = "shared"),
            s => s.AddSingleton<Gate>());

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("two consumers").And.Contain("'shared'");
    }

    [Fact]
    public void A_consumer_on_a_direct_exchange_must_name_its_key()
    {
        var create = () => TestBus.Create(b => b
            .AddExchange("orders", ExchangeType.Direct)
            .MapMessage<OrderPlaced>("orders")
            .AddConsumer<RecordingConsumer<OrderPlaced>>());

        create.Should().Throw<OptionsValidationException>().Which.Message.Should().Contain("Bind<OrderPlaced>(key)");
    }

    public sealed class NotAConsumer;
}
