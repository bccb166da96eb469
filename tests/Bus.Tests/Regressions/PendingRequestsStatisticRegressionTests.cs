using Bus.Tests.Support;

namespace Bus.Tests.Regressions;

public sealed class PendingRequestsStatisticRegressionTests
{
    [Fact]
    public async Task The_statistics_count_the_requests_awaiting_a_reply()
    {
        await using var bus = await TestBus.StartAsync(b => b.AddConsumer<GatedResponder>(), s => s.AddSingleton<Gate>());
        bus.Bus.GetStatistics().PendingRequests.Should().Be(0);

        var first = bus.Publisher.RequestAsync<Question, Answer>(new Question(1), TimeSpan.FromMinutes(1));
        var second = bus.Publisher.RequestAsync<Question, Answer>(new Question(2), TimeSpan.FromMinutes(1));
        await bus.Get<Gate>().WhenArrivedAsync(1);
        bus.Bus.GetStatistics().PendingRequests.Should().Be(2);

        bus.Get<Gate>().Open();
        await Task.WhenAll(first, second).WaitAsync(TestBus.Timeout);
        bus.Bus.GetStatistics().PendingRequests.Should().Be(0);
    }

    public sealed class GatedResponder(Gate gate) : IConsumer<Question>
    {
        public async ValueTask ConsumeAsync(ConsumeContext<Question> context, CancellationToken cancellationToken)
        {
            await gate.PassAsync(cancellationToken);
            await context.RespondAsync(new Answer(context.Message.Id), cancellationToken);
        }
    }
}
