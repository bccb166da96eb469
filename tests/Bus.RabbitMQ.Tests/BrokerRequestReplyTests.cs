using System.Diagnostics;
using Bus.RabbitMQ.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Bus.RabbitMQ.Tests;

/// <summary>Request/reply over RabbitMQ's direct reply-to: in one bus, across two (two "processes"), timing out, faulting.</summary>
public sealed class BrokerRequestReplyTests(BrokerVhost vhost) : IClassFixture<BrokerVhost>
{
    private static Behaviour<Quote> Answering() => new((context, cancellationToken) => context.RespondAsync(new Price(context.Message.Id, 10m * context.Message.Id), cancellationToken));

    /// <summary>The request type published to an exchange of the test's own, read from a queue of its own.</summary>
    private static Action<IMessageBusBuilder> Quotes(string exchange, string? queue) => b =>
    {
        b.AddExchange(exchange, ExchangeType.Fanout).MapMessage<Quote>(exchange);
        if (queue is not null)
        {
            b.AddConsumer<TestConsumer<Quote>>(c => c.Queue = queue);
        }
    };

    [Fact]
    public async Task A_request_still_waiting_when_its_bus_stops_fails_then_instead_of_at_its_timeout()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("unread"));
        var bus = await RabbitBus.StartAsync(vhost, b => Quotes(exchange, null)(b.AddQueue(queue).Bind(exchange, queue)));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var request = bus.Bus.RequestAsync<Quote, Price>(new Quote(1), TimeSpan.FromMinutes(5));
        await bus.Probe.Published.WhenCountAsync(1);

        await bus.DisposeAsync();

        (await request.Invoking(r => r.WaitAsync(BrokerVhost.Timeout)).Should().ThrowAsync<RequestFaultException>())
            .WithMessage("*stopped before a response came*");
        started.Elapsed.Should().BeLessThan(BrokerVhost.Timeout);
    }

    [Fact]
    public async Task A_request_gets_its_response_through_the_broker()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("quoting"));
        await using var bus = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue), s => s.AddSingleton(Answering()));

        var price = await bus.Bus.RequestAsync<Quote, Price>(new Quote(4), TimeSpan.FromSeconds(10));
        var prices = await Task.WhenAll(Enumerable.Range(1, 20).Select(id => bus.Bus.RequestAsync<Quote, Price>(new Quote(id), TimeSpan.FromSeconds(10))));

        price.Should().Be(new Price(4, 40m));
        prices.Select(p => p.Id).Should().Equal(Enumerable.Range(1, 20), "each response finds its own requester");
        prices.Should().OnlyContain(p => p.Amount == 10m * p.Id);
        bus.Bus.GetStatistics().PendingRequests.Should().Be(0);
    }

    [Fact]
    public async Task A_request_answered_by_a_consumer_in_another_process_gets_its_response()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("quoting"));
        var answering = Answering();
        await using var responder = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue), s => s.AddSingleton(answering));
        await using var requester = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue: null));

        var price = await requester.Bus.RequestAsync<Quote, Price>(new Quote(7), TimeSpan.FromSeconds(10));

        price.Should().Be(new Price(7, 70m));
        answering.Calls.All.Should().ContainSingle().Which.Envelope.Headers[RequestHeaders.ReplyTo].Should().BeOfType<string>()
            .Which.Should().StartWith("amq.rabbitmq.reply-to", "the responder answers on the requester's direct reply-to channel");
    }

    [Fact]
    public async Task A_request_nobody_answers_in_time_times_out_and_a_late_answer_breaks_nothing()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("quoting"));
        var gate = new Gate();
        var late = new Behaviour<Quote>(async (context, cancellationToken) =>
        {
            if (context.Message.Id == 1)
            {
                await gate.PassAsync(cancellationToken);
            }

            await context.RespondAsync(new Price(context.Message.Id, 1m), cancellationToken);
        });
        await using var bus = await RabbitBus.StartAsync(vhost, b => Quotes(exchange, queue)(b.AddQueue(queue, q => q.Concurrency = 2).Bind(exchange, queue)), s => s.AddSingleton(late));

        var request = () => bus.Bus.RequestAsync<Quote, Price>(new Quote(1), TimeSpan.FromMilliseconds(300));

        var timeout = (await request.Should().ThrowAsync<RequestTimeoutException>()).Which;
        (timeout.RequestType, timeout.Timeout).Should().Be((typeof(Quote), TimeSpan.FromMilliseconds(300)));
        await gate.WhenArrivedAsync(1);
        gate.Open();
        await bus.Probe.Consumed.WhenCountAsync(1, o => o.Message is Quote { Id: 1 });
        (await bus.Bus.RequestAsync<Quote, Price>(new Quote(2), TimeSpan.FromSeconds(10))).Should().Be(new Price(2, 1m));
        bus.Bus.GetStatistics().PendingRequests.Should().Be(0);
        bus.Logs.AtLeast(LogLevel.Warning).Should().BeEmpty("a response nobody waits for any more is dropped quietly");
        (await bus.StopAsync()).Unprocessed.Should().BeEmpty();
        (await vhost.CountReadyViaAmqpAsync(queue)).Should().Be(0, "the late consumer's message was acknowledged");
    }

    [Fact]
    public async Task A_request_its_consumer_rejects_in_another_process_faults_at_once_rather_than_timing_out()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("quoting"));
        var rejecting = new Behaviour<Quote>((context, _) =>
        {
            context.Reject($"quote {context.Message.Id} is for another desk");
            return ValueTask.CompletedTask;
        });
        await using var responder = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue), s => s.AddSingleton(rejecting));
        await using var requester = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue: null));
        var started = Stopwatch.GetTimestamp();

        var request = () => requester.Bus.RequestAsync<Quote, Price>(new Quote(3), TimeSpan.FromSeconds(30));

        var fault = (await request.Should().ThrowAsync<RequestFaultException>()).Which;
        Stopwatch.GetElapsedTime(started).Should().BeLessThan(TimeSpan.FromSeconds(10), "the responder's dead letter faults the request; its 30 s timeout plays no part");
        fault.Message.Should().Contain("Rejected").And.Contain("quote 3 is for another desk");
        (await responder.DeadLetters.QueryAsync(new DeadLetterQuery { Queue = queue })).Should().ContainSingle().Which.Reason.Should().Be(DeadLetterReason.Rejected);
        requester.Bus.GetStatistics().PendingRequests.Should().Be(0);
    }

    [Fact]
    public async Task A_request_its_consumer_fails_in_the_same_process_faults_with_the_dead_letter()
    {
        await RabbitMqBroker.RequireAsync();
        var (exchange, queue) = (Names.Unique("quotes"), Names.Unique("quoting"));
        var failing = new Behaviour<Quote>((_, _) => throw new ArgumentException("no price for that"));
        await using var bus = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue), s => s.AddSingleton(failing));

        var request = () => bus.Bus.RequestAsync<Quote, Price>(new Quote(5), TimeSpan.FromSeconds(30));

        var fault = (await request.Should().ThrowAsync<RequestFaultException>()).Which;
        fault.Reason.Should().Be(DeadLetterReason.Failed);
        fault.RemoteExceptionType.Should().Be(typeof(ArgumentException).FullName);
    }

    [Fact]
    public async Task A_request_no_queue_is_bound_for_throws_unroutable_at_once()
    {
        await RabbitMqBroker.RequireAsync();
        var exchange = Names.Unique("quotes");
        await using var bus = await RabbitBus.StartAsync(vhost, Quotes(exchange, queue: null));

        var request = () => bus.Bus.RequestAsync<Quote, Price>(new Quote(1), TimeSpan.FromSeconds(30));

        await request.Should().ThrowAsync<UnroutableMessageException>();
        bus.Bus.GetStatistics().PendingRequests.Should().Be(0);
    }
}
