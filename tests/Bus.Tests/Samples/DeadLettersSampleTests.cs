using Bus.Testing;
using DeadLetters;

namespace Bus.Tests.Samples;

public sealed class DeadLettersSampleTests
{
    [Fact]
    public async Task Each_failing_invoice_is_dead_lettered_with_the_reason_attempts_and_error_of_its_failure()
    {
        await using var harness = await StartAsync();

        var outcome = await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        outcome.DeadLettered.OrderBy(d => d.Number, StringComparer.Ordinal).Should().Equal(DeadLettersOutcome.ExpectedDeadLetters);
    }

    [Fact]
    public async Task A_transient_database_timeout_is_retried_after_the_first_backoff_and_imported()
    {
        await using var harness = await StartAsync();

        await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        harness.Retried<ImportInvoice>(i => i.Number == "INV-2").Should().ContainSingle().Which.Delay.Should().Be(TimeSpan.FromMilliseconds(100));
        harness.EventsOf<ImportInvoice>(BusEventKind.Consumed, i => i.Number == "INV-2").Should().ContainSingle()
            .Which.Envelope.DeliveryCount.Should().Be(2);
    }

    [Fact]
    public async Task Retries_back_off_exponentially_before_an_invoice_is_dead_lettered()
    {
        await using var harness = await StartAsync();

        await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        harness.Retried<ImportInvoice>(i => i.Number == "INV-3").Select(r => r.Delay)
            .Should().Equal(TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200));
    }

    [Fact]
    public async Task Replayed_dead_letters_are_consumed_as_first_deliveries_with_the_same_message_id()
    {
        await using var harness = await StartAsync();

        var outcome = await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        outcome.Replayed.Should().Be(3);
        outcome.Imported.Should().BeEquivalentTo(["INV-1", "INV-2", "INV-3", "INV-4", "INV-5"]);
        foreach (var number in new[] { "INV-3", "INV-4", "INV-5" })
        {
            var firstDelivery = harness.EventsOf<ImportInvoice>(BusEventKind.Faulted, i => i.Number == number)[0].Envelope;
            harness.EventsOf<ImportInvoice>(BusEventKind.Consumed, i => i.Number == number).Should().ContainSingle()
                .Which.Envelope.Should().Match<Envelope>(e => e.DeliveryCount == 1 && e.MessageId == firstDelivery.MessageId);
        }
    }

    [Fact]
    public async Task A_rejected_invoice_is_not_replayed_and_stays_in_the_store()
    {
        await using var harness = await StartAsync();

        var outcome = await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        outcome.Remaining.Should().Equal(new DeadLetterSummary("INV-6", DeadLetterReason.Rejected, 1, null));
        (await harness.DeadLetterStore.QueryAsync()).Should().ContainSingle()
            .Which.Description.Should().Be("amount -40.00 is not positive");
    }

    [Fact]
    public async Task The_dead_letters_sample_ends_as_its_plan_predicts()
    {
        await using var harness = await StartAsync();

        var outcome = await DeadLettersApp.RunAsync(harness.Services, SampleClock.Settle(harness));

        outcome.IsAsExpected.Should().BeTrue();
    }

    private static Task<BusTestHarness> StartAsync() =>
        BusTestHarness.StartAsync(DeadLettersApp.Configure, services => DeadLettersApp.AddServices(services, TextWriter.Null));
}
