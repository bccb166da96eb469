using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using Bus.Tests.Support;

namespace Bus.Tests.Consuming;

public sealed class AddConsumersTests
{
    private static readonly Assembly Scanned = ScannedAssembly.Instance;

    [Fact]
    public async Task Every_consumer_class_of_the_assembly_is_added_public_or_not()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumers(Scanned));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Select(r => (r.Consumer, r.Queue)).Should().BeEquivalentTo(
            [("JobConsumer", "Scanned.Orders.JobConsumer"), ("HiddenJobConsumer", "Scanned.Orders.HiddenJobConsumer")]);
    }

    [Fact]
    public async Task Abstract_and_open_generic_classes_and_classes_that_consume_nothing_are_skipped()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumers(Scanned));

        bus.Bus.Topology.Queues.Should().BeEquivalentTo("Scanned.Orders.JobConsumer", "Scanned.Orders.HiddenJobConsumer", "Scanned.PingBatchConsumer");
    }

    [Fact]
    public async Task Each_consumer_found_is_configured_by_the_callback()
    {
        var seen = new List<Type>();
        await using var bus = await TestBus.StartAsync(b => b.AddConsumers(Scanned, (type, consumer) =>
        {
            seen.Add(type);
            consumer.Queue = "scanned-" + type.Name;
        }));

        seen.Select(t => t.Name).Should().Equal("HiddenJobConsumer", "JobConsumer", "PingBatchConsumer");
        bus.Bus.Topology.Queues.Should().BeEquivalentTo("scanned-JobConsumer", "scanned-HiddenJobConsumer", "scanned-PingBatchConsumer");
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_consumer_also_added_explicitly_keeps_its_explicit_options_before_or_after_the_scan(bool explicitFirst)
    {
        await using var bus = await TestBus.StartAsync(b =>
        {
            if (explicitFirst)
            {
                AddConsumer(b, ScannedAssembly.JobConsumer, c => c.Queue = "explicit");
                b.AddConsumers(Scanned);
            }
            else
            {
                b.AddConsumers(Scanned);
                AddConsumer(b, ScannedAssembly.JobConsumer, c => c.Queue = "explicit");
            }
        });

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Bus.Topology.Queues.Should().Contain("explicit").And.NotContain("Scanned.Orders.JobConsumer");
        bus.Recorder.All.Where(r => r.Consumer == "JobConsumer").Should().ContainSingle().Which.Queue.Should().Be("explicit");
    }

    [Fact]
    public async Task Scanning_an_assembly_twice_adds_each_consumer_once_with_the_first_scans_options()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumers(Scanned)
            .AddConsumers(Scanned, (_, consumer) => consumer.Queue = "second"));

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Bus.Topology.Queues.Should().NotContain("second");
        bus.Recorder.All.Should().HaveCount(2);
    }

    [Fact]
    public void A_consumer_added_explicitly_after_a_scan_is_registered_in_the_container_with_its_own_lifetime()
    {
        var services = new ServiceCollection();
        var builder = services.AddMessageBus()
            .AddConsumers(Scanned);
        AddConsumer(builder, ScannedAssembly.JobConsumer, c => c.Lifetime = ConsumerLifetime.Singleton);

        services.Where(d => d.ServiceType == ScannedAssembly.JobConsumer).Should().ContainSingle()
            .Which.Lifetime.Should().Be(ServiceLifetime.Singleton);
        services.Where(d => d.ServiceType == ScannedAssembly.HiddenJobConsumer).Should().ContainSingle()
            .Which.Lifetime.Should().Be(ServiceLifetime.Scoped);
    }

    [Fact]
    public void A_registration_the_application_made_stays_as_it_was()
    {
        var services = new ServiceCollection();
        services.AddSingleton(ScannedAssembly.JobConsumer);
        services.AddMessageBus().AddConsumers(Scanned);

        services.Where(d => d.ServiceType == ScannedAssembly.JobConsumer).Should().ContainSingle()
            .Which.Lifetime.Should().Be(ServiceLifetime.Singleton);
    }

    [Fact]
    public async Task A_consumer_found_by_a_scan_can_be_replaced()
    {
        await using var bus = await TestBus.StartAsync(b =>
        {
            b.AddConsumers(Scanned);
            typeof(MessageBusBuilderExtensions).GetMethod(nameof(MessageBusBuilderExtensions.ReplaceConsumer))!
                .MakeGenericMethod(ScannedAssembly.JobConsumer, typeof(RecordingConsumer<Job>))
                .Invoke(null, [b]);
        });

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        bus.Recorder.All.Select(r => (r.Consumer, r.Queue)).Should().BeEquivalentTo(
            [("RecordingConsumer`1", "Scanned.Orders.JobConsumer"), ("HiddenJobConsumer", "Scanned.Orders.HiddenJobConsumer")]);
    }

    [Fact]
    public void AddConsumers_is_marked_as_unsafe_for_trimming()
    {
        var method = typeof(ConsumerScanningBuilderExtensions).GetMethod(nameof(ConsumerScanningBuilderExtensions.AddConsumers))!;

        method.GetCustomAttribute<RequiresUnreferencedCodeAttribute>().Should().NotBeNull()
            .And.Subject.As<RequiresUnreferencedCodeAttribute>().Message.Should().Contain("AddConsumer<TConsumer>()");
    }

    /// <summary><c>AddConsumer&lt;T&gt;</c> for a type known only at run time (the emitted ones).</summary>
    private static void AddConsumer(IMessageBusBuilder builder, Type consumerType, Action<ConsumerOptions> configure) =>
        typeof(MessageBusBuilderExtensions).GetMethod(nameof(MessageBusBuilderExtensions.AddConsumer))!
            .MakeGenericMethod(consumerType)
            .Invoke(null, [builder, configure]);
}
