// The context a README snippet (a ```csharp block without "complete") compiles in; the rules are at the top of
// ReadmeCodeTests.cs. It is source text for the doc compilations, not part of the test assembly: it holds what the
// README's examples take for granted — usings, the running application's objects, the example messages and services —
// so a snippet can stay as short as the point it makes. Keep it to names the README and docs/*.md use.

global using System.Diagnostics;
global using Bus;
global using Bus.Testing;
global using Microsoft.Extensions.DependencyInjection;
global using Microsoft.Extensions.Hosting;
global using Microsoft.Extensions.Logging;
// What an ASP.NET Core project (Sdk="Microsoft.NET.Sdk.Web") imports implicitly, for the docs' endpoints (app.MapGet).
global using Microsoft.AspNetCore.Builder;
global using Microsoft.AspNetCore.Http;

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

    /// <summary>Another order's id.</summary>
    internal static int otherId = 2;

    /// <summary>The application's service provider (<c>host.Services</c>, <c>app.Services</c>).</summary>
    internal static IServiceProvider provider = null!;

    /// <summary>A web application (<c>WebApplication.CreateBuilder(args).Build()</c>) with AddMessageBus, for endpoints.</summary>
    internal static WebApplication app = null!;

    /// <summary>The program's arguments.</summary>
    internal static string[] args = [];

    /// <summary>A conversation's correlation id.</summary>
    internal static Guid conversationId = Guid.NewGuid();

    /// <summary>A log entry, a quote, an auction lot and its end, at hand.</summary>
    internal static LogEntry entry = null!;
    internal static Quote quote = null!;
    internal static int lot = 7;
    internal static DateTimeOffset auctionEndsAt = DateTimeOffset.UtcNow.AddDays(1);
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
public sealed record LogEntry(string Level, string Text);
public sealed record Quote(int QuoteId, decimal Price);
public sealed record CloseAuction(int LotId);
public sealed record ImportRow(string? CustomerId)
{
    public bool IsValid => CustomerId is not null;
}

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

public sealed class DecliningGateway : IPaymentGateway
{
    public Task ChargeAsync(int orderId, decimal amount, CancellationToken cancellationToken) =>
        Task.FromException(new InvalidOperationException("card declined"));
}

public interface IValidatable
{
    bool IsValid(out string error);
}

public interface ITenantContext
{
    string? Id { get; set; }
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

public sealed class PaymentService : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class EmailService : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class FakeEmailService : IConsumer<OrderPlaced>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class OrderProjection : IConsumer<OrderPlaced>, IConsumer<OrderPaid>
{
    public ValueTask ConsumeAsync(ConsumeContext<OrderPlaced> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;

    public ValueTask ConsumeAsync(ConsumeContext<OrderPaid> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
}

public sealed class TenantHeaderFilter : IPublishFilter
{
    public ValueTask PublishAsync(PublishContext context, PublishFilterDelegate next) => next(context);
}

public sealed class TenantScopeFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next) => next(context);
}

public sealed class ValidationFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next) => next(context);
}

public sealed class TimingFilter : IConsumeFilter
{
    public ValueTask ConsumeAsync(ConsumeContext context, ConsumeFilterDelegate next) => next(context);
}

// An assembly's worth of consumers, by namespace.
namespace Reporting
{
    public sealed class Marker;

    public sealed class ExportConsumer : IConsumer<OrderPaid>
    {
        public ValueTask ConsumeAsync(ConsumeContext<OrderPaid> context, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }
}
