using System.Reflection;
using Bus.Tests.Support;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Consuming;

/// <summary>
/// At start every consumer's constructor is checked against the container, so a missing service fails the start with
/// one message instead of failing every delivery. The services are built as an application builds them in production,
/// without <c>ValidateOnBuild</c>.
/// </summary>
public sealed class ConsumerDependencyTests
{
    [Fact]
    public async Task A_host_does_not_start_when_a_consumer_needs_a_service_that_is_not_registered()
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = Environments.Production });
        builder.Services.AddMessageBus(b => b.AddConsumer<ChargingConsumer>());
        using var host = builder.Build();

        var start = async () => await host.StartAsync();

        (await start.Should().ThrowAsync<OptionsValidationException>()).Which.Failures.Should().ContainSingle().Which.Should().Be(
            $"Consumer {typeof(ChargingConsumer)} cannot be created: its constructor parameter 'gateway' needs {typeof(IPaymentGateway)}, which is not registered in the service collection.");
    }

    [Fact]
    public void Every_missing_service_of_every_consumer_is_listed_in_one_exception()
    {
        using var provider = Build(b => b.AddConsumer<ChargingConsumer>().AddConsumer<AuditingConsumer>());

        var failures = Resolving(provider).Should().Throw<OptionsValidationException>().Which.Failures.ToList();

        failures.Should().HaveCount(3);
        failures.Should().Contain(f => f.Contains(nameof(ChargingConsumer)) && f.Contains("'gateway'") && f.Contains(nameof(IPaymentGateway)));
        failures.Should().Contain(f => f.Contains(nameof(AuditingConsumer)) && f.Contains("'gateway'") && f.Contains(nameof(IPaymentGateway)));
        failures.Should().Contain(f => f.Contains(nameof(AuditingConsumer)) && f.Contains("'audit'") && f.Contains(nameof(IAuditLog)));
    }

    [Fact]
    public void Registered_services_optional_parameters_and_the_containers_own_services_pass()
    {
        using var provider = Build(
            b => b.AddConsumer<ChargingConsumer>().AddConsumer<UndemandingConsumer>(),
            s => s.AddSingleton<IPaymentGateway, FakeGateway>());

        Resolving(provider).Should().NotThrow();
    }

    [Fact]
    public void The_container_may_use_a_shorter_constructor_it_can_satisfy()
    {
        using var provider = Build(b => b.AddConsumer<TwoConstructorConsumer>());

        Resolving(provider).Should().NotThrow();
    }

    [Fact]
    public void A_consumer_registered_with_a_factory_is_the_factorys_to_build()
    {
        using var provider = Build(
            b => b.AddConsumer<ChargingConsumer>(),
            s => s.AddScoped(_ => new ChargingConsumer(new FakeGateway())));

        Resolving(provider).Should().NotThrow();
    }

    [Fact]
    public void A_replacement_that_is_not_registered_is_checked_against_the_constructor_ActivatorUtilities_picks()
    {
        using var provider = Build(b => b
            .AddConsumer<UndemandingConsumer>()
            .ReplaceConsumer<UndemandingConsumer, MarkedConstructorConsumer>());

        Resolving(provider).Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().Contain(nameof(MarkedConstructorConsumer)).And.Contain("'audit'").And.Contain(nameof(IAuditLog));
    }

    [Fact]
    public void A_replacement_ActivatorUtilities_cannot_choose_a_constructor_for_is_reported()
    {
        using var provider = Build(b => b
            .AddConsumer<UndemandingConsumer>()
            .ReplaceConsumer<UndemandingConsumer, TwoConstructorConsumer>());

        Resolving(provider).Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().Contain(nameof(TwoConstructorConsumer)).And.Contain("[ActivatorUtilitiesConstructor]");
    }

    [Fact]
    public void A_keyed_dependency_is_checked_with_its_key()
    {
        using var missing = Build(b => b.AddConsumer<KeyedConsumer>(), s => s.AddKeyedSingleton<IPaymentGateway, FakeGateway>("us"));
        using var present = Build(b => b.AddConsumer<KeyedConsumer>(), s => s.AddKeyedSingleton<IPaymentGateway, FakeGateway>("eu"));

        Resolving(missing).Should().Throw<OptionsValidationException>().Which.Failures.Should().ContainSingle()
            .Which.Should().Contain("with key 'eu'");
        Resolving(present).Should().NotThrow();
    }

    [Fact]
    public async Task A_scoped_consumer_whose_constructor_throws_is_dead_lettered_with_the_constructors_exception()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<ThrowingConsumer>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle()
            .Which.Error!.Type.Should().Be(typeof(ConstructorFailedException).FullName);
    }

    [Fact]
    public async Task A_consumer_created_without_registration_whose_constructor_throws_is_dead_lettered_with_the_constructors_exception()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddConsumer<UndemandingConsumer>()
            .ReplaceConsumer<UndemandingConsumer, ThrowingConsumer>());

        await bus.Publisher.PublishAsync(new Job(1));
        await bus.IdleAsync();

        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle()
            .Which.Error!.Type.Should().Be(typeof(ConstructorFailedException).FullName);
    }

    [Fact]
    public async Task A_consumer_attached_at_run_time_that_cannot_be_built_fails_with_the_activators_exception_not_a_type_initializer_error()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddQueue("late"));
        bus.Bus.Topology.AddConsumer<AmbiguousLateConsumer>("late");

        await bus.Publisher.SendAsync("late", new Job(1));
        await bus.IdleAsync();

        var error = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Which.Error!;
        error.Type.Should().Be(typeof(InvalidOperationException).FullName);
        error.Type.Should().NotBe(typeof(TypeInitializationException).FullName).And.NotBe(typeof(TargetInvocationException).FullName);
    }

    private static ServiceProvider Build(Action<IMessageBusBuilder> configure, Action<IServiceCollection>? services = null)
    {
        var collection = new ServiceCollection();
        services?.Invoke(collection);
        collection.AddMessageBus(configure);
        return collection.BuildServiceProvider();
    }

    private static Func<IMessageBus> Resolving(IServiceProvider provider) => provider.GetRequiredService<IMessageBus>;

    public interface IPaymentGateway;

    public interface IAuditLog;

    public sealed class FakeGateway : IPaymentGateway;

    public sealed class ConstructorFailedException : Exception
    {
        public ConstructorFailedException()
            : base("the consumer's constructor failed (injected by a test)")
        {
        }

        public ConstructorFailedException(string message)
            : base(message)
        {
        }

        public ConstructorFailedException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }

    public sealed class ChargingConsumer(IPaymentGateway gateway) : IConsumer<OrderPlaced>
    {
        public IPaymentGateway Gateway { get; } = gateway;

        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => default;
    }

    public sealed class AuditingConsumer(IPaymentGateway gateway, IAuditLog audit) : IConsumer<PaymentCompleted>
    {
        public object[] Dependencies { get; } = [gateway, audit];

        public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) => default;
    }

    /// <summary>Needs nothing it cannot get: the container's own services, and an optional one.</summary>
    public sealed class UndemandingConsumer(IServiceProvider services, IServiceScopeFactory scopes, IAuditLog? audit = null) : IConsumer<Job>
    {
        public object?[] Dependencies { get; } = [services, scopes, audit];

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }

    public sealed class TwoConstructorConsumer : IConsumer<Job>
    {
        public TwoConstructorConsumer()
        {
        }

        public TwoConstructorConsumer(IAuditLog audit) => Audit = audit;

        public IAuditLog? Audit { get; }

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }

    public sealed class MarkedConstructorConsumer : IConsumer<Job>
    {
        public MarkedConstructorConsumer()
        {
        }

        [ActivatorUtilitiesConstructor]
        public MarkedConstructorConsumer(IAuditLog audit) => Audit = audit;

        public IAuditLog? Audit { get; }

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }

    public sealed class KeyedConsumer([FromKeyedServices("eu")] IPaymentGateway gateway) : IConsumer<OrderPlaced>
    {
        public IPaymentGateway Gateway { get; } = gateway;

        public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => default;
    }

    public sealed class ThrowingConsumer : IConsumer<Job>
    {
        public ThrowingConsumer() => throw new ConstructorFailedException();

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }

    /// <summary>Two public constructors and no registration: ActivatorUtilities cannot choose.</summary>
    public sealed class AmbiguousLateConsumer : IConsumer<Job>
    {
        public AmbiguousLateConsumer()
        {
        }

        public AmbiguousLateConsumer(Recorder recorder) => Recorder = recorder;

        public Recorder? Recorder { get; }

        public ValueTask ConsumeAsync(ConsumeContext<Job> context, CancellationToken cancellationToken) => default;
    }
}
