using Bus.Tests.Support;

namespace Bus.Tests.Requests;

public sealed record Charge(int OrderId, decimal Amount);

public sealed record Receipt(int OrderId, string Code);

public sealed class RequestReplyTests
{
    private static Task<TestBus> StartAsync(Action<IMessageBusBuilder>? more = null, Action<IServiceCollection>? services = null) =>
        TestBus.StartAsync(
            b =>
            {
                b.AddConsumer<PaymentService>();
                more?.Invoke(b);
            },
            s =>
            {
                s.AddSingleton<Gate>();
                services?.Invoke(s);
            });

    private static int Pending(TestBus bus) => ((MessageBus)bus.Bus).Requests.Count;

    [Fact]
    public async Task A_request_gets_its_typed_response()
    {
        await using var bus = await StartAsync();

        var receipt = await bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(1, 10m)).WaitAsync(TestBus.Timeout);

        receipt.Should().Be(new Receipt(1, "ok-1"));
        Pending(bus).Should().Be(0);
    }

    [Fact]
    public async Task Concurrent_requests_each_get_their_own_response()
    {
        await using var bus = await StartAsync(b => b.Configure(o => o.MaxPendingRequests = 100));

        var receipts = await Task.WhenAll(Enumerable.Range(0, 100).Select(i => bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(i, 1m)))).WaitAsync(TestBus.Timeout);

        receipts.Select(r => r.OrderId).Should().Equal(Enumerable.Range(0, 100));
    }

    [Fact]
    public async Task A_request_nobody_answers_times_out_naming_the_request_type()
    {
        await using var bus = await StartAsync();

        var request = bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(-1, 10m), TimeSpan.FromSeconds(5));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        bus.Time.Advance(TimeSpan.FromSeconds(5));

        var thrown = (await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<RequestTimeoutException>()).Which;
        thrown.RequestType.Should().Be<Charge>();
        thrown.Message.Should().Contain(nameof(Charge)).And.Contain("00:00:05");
        Pending(bus).Should().Be(0);
        bus.Get<Gate>().Open();
    }

    [Fact]
    public async Task A_request_can_be_cancelled()
    {
        await using var bus = await StartAsync();
        using var cancellation = new CancellationTokenSource();

        var request = bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(-1, 10m), cancellation.Token);
        await bus.Get<Gate>().WhenArrivedAsync(1);
        await cancellation.CancelAsync();

        await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<OperationCanceledException>();
        Pending(bus).Should().Be(0);
        bus.Get<Gate>().Open();
    }

    [Fact]
    public async Task A_consumer_failure_reaches_the_requester_at_once_with_the_remote_exception()
    {
        await using var bus = await StartAsync();

        var request = bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(2, -5m));

        var fault = (await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<RequestFaultException>()).Which;
        fault.RemoteExceptionType.Should().Be(typeof(ArgumentOutOfRangeException).FullName);
        fault.RemoteMessage.Should().Contain("negative amount");
        fault.RequestType.Should().Be<Charge>();
        fault.Reason.Should().Be(DeadLetterReason.Failed, "no retry policy is set: the reason says it was not retried, rather than that retries ran out");
        Pending(bus).Should().Be(0);
    }

    [Fact]
    public async Task A_request_nobody_consumes_fails_fast()
    {
        await using var bus = await TestBus.StartAsync(_ => { });

        var request = async () => await bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(1, 1m));

        (await request.Should().ThrowAsync<UnroutableMessageException>()).Which.MessageType.Should().Be<Charge>();
        Pending(bus).Should().Be(0);
    }

    [Fact]
    public async Task A_response_of_the_wrong_type_faults_the_request()
    {
        await using var bus = await StartAsync();

        var request = bus.Publisher.RequestAsync<Charge, string>(new Charge(3, 1m));

        (await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<RequestFaultException>())
            .Which.Message.Should().Contain(nameof(Receipt)).And.Contain(typeof(string).FullName);
    }

    [Fact]
    public async Task Responding_to_a_message_that_is_not_a_request_throws()
    {
        await using var bus = await StartAsync();

        await bus.Publisher.PublishAsync(new Charge(4, 1m));
        await bus.IdleAsync();

        var deadLetter = (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().ContainSingle().Subject;
        deadLetter.Error!.Message.Should().Contain("was not sent as a request");
    }

    [Fact]
    public async Task The_number_of_waiting_requests_is_bounded()
    {
        await using var bus = await StartAsync(b => b.Configure(o => o.MaxPendingRequests = 2));
        var waiting = Enumerable.Range(0, 2).Select(_ => bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(-1, 1m))).ToList();

        var third = async () => await bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(5, 1m));

        (await third.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Contain("MaxPendingRequests");
        bus.Get<Gate>().Open();
        bus.Time.Advance(BusOptions.DefaultDefaultRequestTimeout);
        foreach (var request in waiting)
        {
            await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<RequestTimeoutException>();
        }
    }

    [Fact]
    public async Task The_pending_map_is_empty_after_100000_requests_that_time_out_or_are_cancelled()
    {
        await using var bus = await TestBus.StartAsync(b => b
            .AddQueue("black-hole", q => q.Capacity = 100_000)
            .Bind<Charge>("black-hole"));
        var timedOut = 0;
        var cancelled = 0;

        for (var round = 0; round < 10; round++)
        {
            using var cancellation = new CancellationTokenSource();
            var requests = new List<Task>(10_000);
            for (var i = 0; i < 10_000; i++)
            {
                requests.Add(i % 2 == 0
                    ? bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(i, 1m), TimeSpan.FromSeconds(1))
                    : bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(i, 1m), Timeout.InfiniteTimeSpan, cancellation.Token));
            }

            Pending(bus).Should().Be(10_000);
            bus.Time.Advance(TimeSpan.FromSeconds(1));
            await cancellation.CancelAsync();
            foreach (var request in requests)
            {
                try
                {
                    await request.WaitAsync(TestBus.Timeout);
                }
                catch (RequestTimeoutException)
                {
                    timedOut++;
                }
                catch (OperationCanceledException)
                {
                    cancelled++;
                }
            }

            Pending(bus).Should().Be(0);
            await bus.Bus.Topology.DeleteQueueAsync("black-hole");
            bus.Bus.Topology.DeclareQueue("black-hole", new QueueOptions { Capacity = 100_000 });
            bus.Bus.Topology.Bind(new Binding(bus.Bus.Topology.GetExchangeName<Charge>(), "black-hole"));
            await bus.Get<IDeadLetterStore>().PurgeAsync();
        }

        (timedOut, cancelled).Should().Be((50_000, 50_000));
    }

    /// <summary>Answers charges; a negative order id waits at the gate; a negative amount fails; order 3 answers with the wrong type.</summary>
    public sealed class PaymentService(Gate gate) : IConsumer<Charge>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Charge> context, CancellationToken cancellationToken)
        {
            var charge = context.Message;
            if (charge.OrderId < 0)
            {
                await gate.PassAsync(CancellationToken.None);
                return;
            }

            ArgumentOutOfRangeException.ThrowIfNegative(charge.Amount, "negative amount");
            await context.RespondAsync(new Receipt(charge.OrderId, $"ok-{charge.OrderId}"), cancellationToken);
        }
    }
}
