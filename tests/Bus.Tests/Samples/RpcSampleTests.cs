using Bus.Testing;
using Rpc;

namespace Bus.Tests.Samples;

public sealed class RpcSampleTests
{
    [Fact]
    public async Task A_quote_request_is_answered_with_the_response_for_that_request()
    {
        await using var harness = await StartAsync();

        var quote = await RpcApp.AskForQuoteAsync(harness.Services);

        quote.Should().Be(new Quote("widget", 3, 29.97m, quote.RequestId));
        var request = harness.EventsOf<GetQuote>(BusEventKind.Published).Should().ContainSingle().Subject;
        quote.RequestId.Should().Be(request.Envelope.MessageId);
        request.Envelope.Headers.Should().ContainKey(RequestHeaders.ReplyTo);
    }

    [Fact]
    public async Task A_request_the_consumer_fails_on_faults_back_to_the_requester_with_the_remote_exception()
    {
        await using var harness = await StartAsync();

        var fault = await RpcApp.AskForUnknownProductAsync(harness.Services);

        fault.Should().NotBeNull();
        fault!.RemoteExceptionType.Should().Be(typeof(KeyNotFoundException).FullName);
        fault.RemoteMessage.Should().Be("no price for 'unicorn'");
        harness.DeadLettered<GetQuote>().Should().ContainSingle().Which.Error!.Message.Should().Be("no price for 'unicorn'");
    }

    [Fact]
    public async Task A_request_nobody_answers_times_out_when_the_clock_passes_the_request_timeout()
    {
        await using var harness = await StartAsync();

        // The request's timer starts on the fake clock as the request is sent, so moving the clock past it times it out.
        var pending = RpcApp.CheckOfflineWarehouseAsync(harness.Services);
        pending.IsCompleted.Should().BeFalse();
        harness.Time.Advance(RpcApp.RequestTimeout);
        var timeout = await pending.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        timeout.Should().NotBeNull();
        timeout!.Timeout.Should().Be(RpcApp.RequestTimeout);
        timeout.RequestType.Should().Be<CheckStock>();
    }

    [Fact]
    public async Task A_late_answer_after_the_timeout_is_dropped_and_the_bus_goes_idle()
    {
        await using var harness = await StartAsync();
        var pending = RpcApp.CheckOfflineWarehouseAsync(harness.Services);
        harness.Time.Advance(RpcApp.RequestTimeout);
        await pending.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);

        await harness.WaitUntilIdleAsync();

        harness.Consumed<CheckStock>().Should().ContainSingle();
        harness.Bus.GetStatistics().DeadLetters.Should().Be(0);
    }

    private static Task<BusTestHarness> StartAsync() =>
        BusTestHarness.StartAsync(RpcApp.Configure, services => RpcApp.AddServices(services, TextWriter.Null));
}
