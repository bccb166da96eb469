// The context a README snippet (a ```csharp block without "complete") compiles in; the rules are at the top of
// ReadmeCodeTests.cs. It is source text for the doc compilations, not part of the test assembly: it holds what the
// README's examples take for granted — usings, the running application's objects, the example messages and services —
// so a snippet can stay as short as the point it makes. Keep it to names the README uses.

global using System.Diagnostics;
global using Bus;
global using Bus.Testing;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Hosting;
global using Microsoft.Extensions.Logging;

/// <summary>The variables a snippet's statements can use (its statements become the body of <c>RunAsync</c>).</summary>
internal static partial class DocSnippet
{
    /// <summary>The application's builder: <c>Host.CreateApplicationBuilder(args)</c>.</summary>
    internal static HostApplicationBuilder builder = null!;

    /// <summary>A service collection without a host: <c>new ServiceCollection()</c>.</summary>
    internal static IServiceCollection services = null!;

    /// <summary>The builder <c>AddMessageBus(bus => ...)</c> hands you: configuration (<c>bus.AddConsumer</c>, <c>bus.AddQueue</c>, ...).</summary>
    internal static IMessageBusBuilder bus = null!;

    /// <summary>The running bus (<c>IMessageBus</c> from DI): topology, replay, scheduling, start and stop.</summary>
    internal static IMessageBus messageBus = null!;

    /// <summary>The publisher (<c>IPublisher</c> from DI, or a consumer's <c>ConsumeContext</c>).</summary>
    internal static IPublisher publisher = null!;

    /// <summary>The monitor (<c>IBusMonitor</c> from DI).</summary>
    internal static IBusMonitor monitor = null!;

    /// <summary>An order at hand.</summary>
    internal static OrderPlaced order = null!;

    /// <summary>An order's id at hand.</summary>
    internal static int orderId = 1;
}

// The example messages.
public sealed record OrderPlaced(int OrderId, decimal Total);
public sealed record OrderPaid(int OrderId);
public sealed record PaymentCompleted(int OrderId);
public sealed record CreateInvoice(int OrderId);
public sealed record Charge(int OrderId, decimal Amount);
public sealed record Receipt(int OrderId, decimal Amount);
public sealed record SendReminder(int OrderId);
public sealed record AssignCourier(int OrderId);

// The example services.
public interface IPaymentGateway
{
    Task ChargeAsync(int orderId, decimal amount, CancellationToken cancellationToken);
}

public sealed record OrderRow(int OrderId, decimal Total);

public interface IAnalyticsStore
{
    Task InsertAsync(IReadOnlyList<OrderRow> rows, CancellationToken cancellationToken);
}

public sealed class ValidationException(string message) : Exception(message);

// The example consumers and filters.
public sealed class PaymentConsumer : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class EmailConsumer : IConsumer<OrderPlaced>, IConsumer<PaymentCompleted>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class InventoryConsumer : IConsumer<PaymentCompleted>
{
    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class AnalyticsConsumer : IConsumer<PaymentCompleted>
{
    public ValueTask ConsumeAsync(ConsumeContext<PaymentCompleted> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class OrderConsumer : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class DeliveryAssigner : IConsumer<AssignCourier>
{
    public ValueTask ConsumeAsync(ConsumeContext<AssignCourier> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class AuditConsumer : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class TenantHeaderFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next) => next(context);
}
