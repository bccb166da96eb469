using Bus;
using Microsoft.Extensions.DependencyInjection;

namespace Rpc;

/// <summary>
/// Request/reply over the bus: a quote request answered (the response matched to its request by the request's message
/// id), a request the consumer fails on (the requester gets a <see cref="RequestFaultException"/> at once, not a
/// timeout), and a request nobody answers in time (<see cref="RequestTimeoutException"/>).
/// </summary>
public static class RpcApp
{
    /// <summary>Gets how long a requester waits for an answer, on the bus's clock.</summary>
    public static TimeSpan RequestTimeout { get; } = TimeSpan.FromMilliseconds(250);

    public static void AddServices(IServiceCollection services, TextWriter output)
    {
        services.AddSingleton(new Journal(output));
        services.AddSingleton<WarehouseLink>();
    }

    // No retry policy (the bus default is none): a failed request is faulted back to the requester at once.
    public static void Configure(IMessageBusBuilder bus) => bus
        .AddConsumer<PricingService>()
        .AddConsumer<WarehouseService>();

    /// <summary>Runs the three requests in turn.</summary>
    /// <param name="services">The services of a running bus configured with <see cref="Configure"/>.</param>
    /// <param name="cancellationToken">Cancels the run.</param>
    /// <returns>What each request ended with.</returns>
    public static async Task<RpcOutcome> RunAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var quote = await AskForQuoteAsync(services, cancellationToken);
        var fault = await AskForUnknownProductAsync(services, cancellationToken);
        var timeout = await CheckOfflineWarehouseAsync(services, cancellationToken);
        await services.GetRequiredService<IMessageBus>().WaitForIdleAsync(cancellationToken);   // the late answer
        var outcome = new RpcOutcome(quote, fault, timeout);
        services.GetRequiredService<Journal>().Line(
            outcome.IsAsExpected ? "All three outcomes as expected." : $"Unexpected outcome: {outcome}");
        return outcome;
    }

    /// <summary>A round trip: the pricing service answers with a quote.</summary>
    /// <param name="services">The bus's services.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The quote.</returns>
    public static async Task<Quote> AskForQuoteAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var publisher = services.GetRequiredService<IPublisher>();
        var journal = services.GetRequiredService<Journal>();
        journal.Line("1. Ask for a quote for 3 widgets:");
        var quote = await publisher.RequestAsync<GetQuote, Quote>(new GetQuote("widget", 3), RequestTimeout, cancellationToken);
        journal.Line($"   answered: {quote.Quantity} x {quote.Product} = {quote.Total:0.00} EUR, for request {Ids.Short(quote.RequestId)}");
        return quote;
    }

    /// <summary>A request the consumer throws on: the requester sees the remote exception at once.</summary>
    /// <param name="services">The bus's services.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The fault, or null if the request was answered after all.</returns>
    public static async Task<RequestFaultException?> AskForUnknownProductAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var publisher = services.GetRequiredService<IPublisher>();
        var journal = services.GetRequiredService<Journal>();
        journal.Line("2. Ask for a quote for a product with no price:");
        try
        {
            var quote = await publisher.RequestAsync<GetQuote, Quote>(new GetQuote("unicorn", 1), RequestTimeout, cancellationToken);
            journal.Line($"   answered, unexpectedly: {quote}");
            return null;
        }
        catch (RequestFaultException fault)
        {
            journal.Line($"   RequestFaultException: {fault.RemoteExceptionType}: {fault.RemoteMessage} (dead-lettered as {fault.Reason})");
            return fault;
        }
    }

    /// <summary>
    /// A request nobody answers within <see cref="RequestTimeout"/>; then the warehouse link comes back and its late
    /// answer is dropped.
    /// </summary>
    /// <param name="services">The bus's services.</param>
    /// <param name="cancellationToken">Stops waiting.</param>
    /// <returns>The timeout, or null if the request was answered in time after all.</returns>
    public static async Task<RequestTimeoutException?> CheckOfflineWarehouseAsync(IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var publisher = services.GetRequiredService<IPublisher>();
        var journal = services.GetRequiredService<Journal>();
        journal.Line($"3. Check stock in the Lyon warehouse, which is offline, waiting {RequestTimeout.TotalMilliseconds:0} ms:");
        try
        {
            var level = await publisher.RequestAsync<CheckStock, StockLevel>(new CheckStock("widget", "Lyon"), RequestTimeout, cancellationToken);
            journal.Line($"   answered, unexpectedly: {level}");
            return null;
        }
        catch (RequestTimeoutException timeout)
        {
            journal.Line($"   RequestTimeoutException: {timeout.Message}");
            return timeout;
        }
        finally
        {
            services.GetRequiredService<WarehouseLink>().Reconnect();
        }
    }
}

/// <summary>What the three requests ended with.</summary>
/// <param name="Quote">The answered quote.</param>
/// <param name="Fault">The fault of the request the consumer failed on.</param>
/// <param name="Timeout">The timeout of the request nobody answered in time.</param>
public sealed record RpcOutcome(Quote Quote, RequestFaultException? Fault, RequestTimeoutException? Timeout)
{
    public bool IsAsExpected =>
        Quote is { Product: "widget", Quantity: 3, Total: 29.97m }
        && Fault is { Reason: not null, RemoteExceptionType: "System.Collections.Generic.KeyNotFoundException" }
        && Timeout is not null && Timeout.Timeout == RpcApp.RequestTimeout;
}
