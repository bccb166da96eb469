using Bus.Tests.Support;

namespace Bus.Tests.Requests;

/// <summary>A request published to a fanout reaches several queues: one queue failing does not fault what another answers.</summary>
public sealed class FanoutRequestTests
{
    [Fact]
    public async Task A_queue_that_dead_letters_a_copy_does_not_fault_a_request_another_queue_answers()
    {
        var deadLettered = new DeadLetterSignal();
        await using var bus = await TestBus.StartAsync(
            b => b.AddConsumer<FailingAuditor>().AddConsumer<GatedResponder>(),
            s => s.AddSingleton<Gate>().AddSingleton<IBusObserver>(deadLettered));

        var request = bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(1, 10m));
        await deadLettered.First.WaitAsync(TestBus.Timeout);
        bus.Get<Gate>().Open();

        (await request.WaitAsync(TestBus.Timeout)).Should().Be(new Receipt(1, "ok"));
    }

    [Fact]
    public async Task A_request_whose_every_copy_is_dead_lettered_faults()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<FailingAuditor>().AddConsumer<FailingPayments>());

        var request = bus.Publisher.RequestAsync<Charge, Receipt>(new Charge(1, 10m));

        (await request.Invoking(r => r.WaitAsync(TestBus.Timeout)).Should().ThrowAsync<RequestFaultException>()).Which.Reason.Should().Be(DeadLetterReason.Failed);
        (await bus.Get<IDeadLetterStore>().QueryAsync()).Should().HaveCount(2);
    }

    /// <summary>Completes when the first dead letter is stored.</summary>
    public sealed class DeadLetterSignal : IBusObserver
    {
        private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task First => _first.Task;

        public void OnDeadLettered(DeadLetter deadLetter) => _first.TrySetResult();
    }

    public sealed class FailingAuditor : IConsumer<Charge>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Charge> context, CancellationToken cancellationToken) => throw new InvalidOperationException("audit log is down");
    }

    public sealed class FailingPayments : IConsumer<Charge>
    {
        public ValueTask ConsumeAsync(ConsumeContext<Charge> context, CancellationToken cancellationToken) => throw new InvalidOperationException("bank is down");
    }

    /// <summary>Answers once the gate opens, after the auditor's copy had every chance to fail.</summary>
    public sealed class GatedResponder(Gate gate) : IConsumer<Charge>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Charge> context, CancellationToken cancellationToken)
        {
            await gate.PassAsync(cancellationToken);
            await context.RespondAsync(new Receipt(context.Message.OrderId, "ok"), cancellationToken);
        }
    }
}
