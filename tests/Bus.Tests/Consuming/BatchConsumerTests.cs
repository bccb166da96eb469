using Bus.Tests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Bus.Tests.Consuming;

public sealed class BatchConsumerTests
{
    private static Task<TestBus> StartAsync<TConsumer>(int maxSize, TimeSpan window, Action<ConsumerOptions>? configure = null, Action<IMessageBusBuilder>? bus = null)
        where TConsumer : class =>
        TestBus.StartAsync(
            b =>
            {
                b.AddConsumer<TConsumer>(c =>
                {
                    c.Queue = "jobs";
                    c.Batch.MaxSize = maxSize;
                    c.Batch.Window = window;
                    configure?.Invoke(c);
                });
                bus?.Invoke(b);
            },
            s => s.AddSingleton<BatchLog>().AddSingleton<Gate>());

    private static async Task PublishJobsAsync(TestBus bus, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await bus.Publisher.PublishAsync(new Job(i));
        }
    }

    [Fact]
    public async Task A_batch_is_delivered_as_soon_as_it_reaches_its_maximum_size()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 4, window: TimeSpan.FromHours(1));
        var log = bus.Get<BatchLog>();

        await PublishJobsAsync(bus, 10);
        await log.WhenBatchesAsync(2);
        log.Batches.Should().HaveCount(2);
        log.Batches[0].Should().Equal(0, 1, 2, 3);
        log.Batches[1].Should().Equal(4, 5, 6, 7);

        bus.Time.Advance(TimeSpan.FromHours(1));
        await log.WhenBatchesAsync(3);
        await bus.IdleAsync();
        log.Batches[2].Should().Equal(8, 9);
    }

    [Fact]
    public async Task A_batch_is_delivered_with_what_arrived_once_its_window_has_passed()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 10, window: TimeSpan.FromSeconds(1));
        var log = bus.Get<BatchLog>();

        await PublishJobsAsync(bus, 3);
        log.Batches.Should().BeEmpty("neither the size nor the window is reached");

        bus.Time.Advance(TimeSpan.FromSeconds(1));
        await log.WhenBatchesAsync(1);
        await bus.IdleAsync();
        log.Batches.Should().ContainSingle().Which.Should().Equal(0, 1, 2);
    }

    [Fact]
    public async Task Waiting_for_idle_does_not_wait_for_a_batch_window()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 10, window: TimeSpan.FromMinutes(1));

        await PublishJobsAsync(bus, 3);
        await bus.IdleAsync();

        bus.Get<BatchLog>().Batches.Should().BeEmpty();
        bus.Bus.GetStatistics().GetQueue("jobs").Pending.Should().Be(3, "the batch holds them until its window passes");
        bus.Time.Advance(TimeSpan.FromMinutes(1));
        await bus.Get<BatchLog>().WhenBatchesAsync(1);
        await bus.IdleAsync();
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(3);
    }

    [Fact]
    public async Task A_zero_window_delivers_what_is_in_the_queue_without_waiting()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 10, window: TimeSpan.Zero);

        await PublishJobsAsync(bus, 25);
        await bus.IdleAsync();

        var batches = bus.Get<BatchLog>().Batches;
        batches.SelectMany(b => b).Should().Equal(Enumerable.Range(0, 25));
        batches.Should().OnlyContain(b => b.Count >= 1 && b.Count <= 10);
    }

    [Fact]
    public async Task A_failed_batch_is_retried_as_a_batch_then_each_message_is_dead_lettered_with_the_reason()
    {
        // A window that never passes: the batch forms when all five are there, so they fail together.
        await using var bus = await StartAsync<FailingBatchConsumer>(
            maxSize: 5,
            window: TimeSpan.FromHours(1),
            c => c.RetryPolicy = RetryPolicy.Immediate(1));

        await PublishJobsAsync(bus, 5);
        await bus.IdleAsync();

        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync(new DeadLetterQuery());
        deadLetters.Should().HaveCount(5);
        deadLetters.Should().OnlyContain(d => d.Reason == DeadLetterReason.MaxRetriesExceeded && d.Attempts == 2 && d.Error!.Type == typeof(InvalidOperationException).FullName);
        bus.Get<BatchLog>().Attempts.Should().Be(2, "the five messages failed together, then were retried together");
    }

    [Fact]
    public async Task A_batch_retried_later_is_batched_again_when_due()
    {
        await using var bus = await StartAsync<FailOnceBatchConsumer>(
            maxSize: 5,
            window: TimeSpan.Zero,
            c => c.RetryPolicy = RetryPolicy.Interval(1, TimeSpan.FromSeconds(10)));
        var log = bus.Get<BatchLog>();

        await PublishJobsAsync(bus, 3);
        await bus.IdleAsync();
        log.Batches.Should().BeEmpty();
        bus.Bus.GetStatistics().GetQueue("jobs").WaitingForRetry.Should().Be(3);

        bus.Time.Advance(TimeSpan.FromSeconds(10));
        await log.WhenBatchesAsync(1);
        await bus.IdleAsync();
        log.Batches.SelectMany(b => b).Order().Should().Equal(0, 1, 2);
        bus.Bus.GetStatistics().GetQueue("jobs").Consumed.Should().Be(3);
    }

    [Fact]
    public async Task A_rejected_batch_dead_letters_every_message_without_retries()
    {
        await using var bus = await StartAsync<RejectingBatchConsumer>(
            maxSize: 5,
            window: TimeSpan.Zero,
            c => c.RetryPolicy = RetryPolicy.Immediate(3));

        await PublishJobsAsync(bus, 4);
        await bus.IdleAsync();

        var deadLetters = await bus.Get<IDeadLetterStore>().QueryAsync(new DeadLetterQuery());
        deadLetters.Should().HaveCount(4).And.OnlyContain(d => d.Reason == DeadLetterReason.Rejected && d.Attempts == 1);
    }

    [Fact]
    public async Task Expired_messages_are_dead_lettered_and_left_out_of_the_batch()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 10, window: TimeSpan.FromSeconds(5));
        await bus.Publisher.PublishAsync(new Job(0), new PublishOptions { TimeToLive = TimeSpan.FromSeconds(1) });
        await bus.Publisher.PublishAsync(new Job(1));

        bus.Time.Advance(TimeSpan.FromSeconds(5));
        await bus.IdleAsync();

        bus.Get<BatchLog>().Batches.Should().ContainSingle().Which.Should().Equal(1);
        (await bus.Get<IDeadLetterStore>().QueryAsync(new DeadLetterQuery())).Should().ContainSingle()
            .Which.Reason.Should().Be(DeadLetterReason.Expired);
    }

    [Fact]
    public async Task A_batch_in_a_consumer_when_the_stop_gives_up_is_reported()
    {
        var bus = await StartAsync<GatedBatchConsumer>(
            maxSize: 3,
            window: TimeSpan.Zero,
            bus: b => b.Configure(o => o.StopTimeout = TimeSpan.FromSeconds(5)));
        await using var _ = bus;
        await PublishJobsAsync(bus, 3);
        await bus.Get<Gate>().WhenArrivedAsync(1);

        var stopping = bus.Bus.StopAsync();
        bus.Time.Advance(TimeSpan.FromSeconds(5));
        var report = await stopping.WaitAsync(TestBus.Timeout);

        report.Unprocessed.Select(u => ((Job)u.Envelope.Message).Id).Order().Should().Equal(0, 1, 2);
        report.Unprocessed.Should().OnlyContain(u => u.WasInFlight);
    }

    [Fact]
    public async Task A_message_of_another_type_sent_to_the_queue_is_dead_lettered_and_the_batch_goes_on()
    {
        await using var bus = await StartAsync<RecordingBatchConsumer>(maxSize: 3, window: TimeSpan.FromHours(1));

        await bus.Publisher.SendAsync("jobs", new Job(0));
        await bus.Publisher.SendAsync("jobs", new OrderPlaced(7));
        await bus.Publisher.SendAsync("jobs", new Job(1));
        await bus.IdleAsync();
        bus.Time.Advance(TimeSpan.FromHours(1));
        await bus.Get<BatchLog>().WhenBatchesAsync(1);
        await bus.IdleAsync();

        (await bus.Get<IDeadLetterStore>().QueryAsync(new DeadLetterQuery())).Should().ContainSingle()
            .Which.Reason.Should().Be(DeadLetterReason.NoConsumer);
        bus.Get<BatchLog>().Batches.SelectMany(b => b).Should().Equal(0, 1);
    }

    [Fact]
    public async Task Every_message_of_a_batch_in_flight_when_the_stop_gives_up_is_reported_once()
    {
        // The race between the stop report taking the batch over and its consumer failing on the cancelled token.
        const int size = 500;
        for (var round = 0; round < 20; round++)
        {
            var bus = await StartAsync<CancelLateBatchConsumer>(
                maxSize: size,
                window: TimeSpan.FromHours(1),
                c => c.QueueOptions.Capacity = size,
                b => b.Configure(o => o.StopTimeout = TimeSpan.FromSeconds(5)));
            await using var _ = bus;
            await PublishJobsAsync(bus, size);
            await bus.Get<Gate>().WhenArrivedAsync(1);

            var stopping = bus.Bus.StopAsync();
            bus.Time.Advance(TimeSpan.FromSeconds(5));
            bus.Time.Advance(TimeSpan.FromSeconds(5));
            var report = await stopping.WaitAsync(TestBus.Timeout);

            report.Unprocessed.Select(u => ((Job)u.Envelope.Message).Id).Order().Should().Equal(Enumerable.Range(0, size), $"round {round}");
        }
    }

    [Fact]
    public async Task A_batch_consumer_cannot_share_its_queue()
    {
        var create = () => TestBus.Create(
            b => b
                .AddQueue("jobs")
                .AddConsumer<RecordingBatchConsumer>(c => c.Queue = "jobs")
                .AddConsumer<RecordingConsumer<OrderPlaced>>(c => c.Queue = "jobs"),
            s => s.AddSingleton<BatchLog>());

        create.Should().Throw<OptionsValidationException>().WithMessage("*'jobs'*batch consumer*queue of its own*");
    }

    [Fact]
    public void Batch_limits_out_of_range_are_refused()
    {
        var create = () => TestBus.Create(
            b => b.AddConsumer<RecordingBatchConsumer>(c => { c.Batch.MaxSize = 0; c.Batch.Window = TimeSpan.FromSeconds(-1); }),
            s => s.AddSingleton<BatchLog>());

        var failures = create.Should().Throw<OptionsValidationException>().Which.Failures;
        failures.Should().Contain(f => f.Contains("MaxSize is 0")).And.Contain(f => f.Contains("Window"));
    }

    [Fact]
    public void A_batch_consumer_of_two_message_types_is_refused()
    {
        var create = () => TestBus.Create(b => b.AddConsumer<TwoTypesBatchConsumer>());

        create.Should().Throw<OptionsValidationException>().WithMessage("*TwoTypesBatchConsumer*one message type*");
    }

    /// <summary>The batches consumers saw, as lists of job ids, in the order they finished.</summary>
    public sealed class BatchLog
    {
        private readonly Lock _lock = new();
        private readonly List<List<int>> _batches = [];
        private readonly List<(int Count, TaskCompletionSource Signal)> _waiters = [];
        private int _attempts;

        public IReadOnlyList<IReadOnlyList<int>> Batches
        {
            get
            {
                lock (_lock)
                {
                    return [.. _batches];
                }
            }
        }

        public int Attempts => Volatile.Read(ref _attempts);

        public void Attempt() => Interlocked.Increment(ref _attempts);

        public void Record(Batch<Job> batch)
        {
            var ids = new List<int>();
            foreach (var job in batch)
            {
                ids.Add(job.Id);
            }

            lock (_lock)
            {
                _batches.Add(ids);
                foreach (var waiter in _waiters.FindAll(w => w.Count <= _batches.Count))
                {
                    waiter.Signal.TrySetResult();
                    _waiters.Remove(waiter);
                }
            }
        }

        public Task WhenBatchesAsync(int count)
        {
            lock (_lock)
            {
                if (_batches.Count >= count)
                {
                    return Task.CompletedTask;
                }

                var signal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                _waiters.Add((count, signal));
                return signal.Task.WaitAsync(TestBus.Timeout);
            }
        }
    }

    public sealed class RecordingBatchConsumer(BatchLog log) : IBatchConsumer<Job>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
        {
            log.Record(batch);
            return default;
        }
    }

    public sealed class FailingBatchConsumer(BatchLog log) : IBatchConsumer<Job>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
        {
            log.Attempt();
            throw new InvalidOperationException("the warehouse is closed");
        }
    }

    public sealed class FailOnceBatchConsumer(BatchLog log) : IBatchConsumer<Job>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
        {
            if (batch.GetEnvelope(0).DeliveryCount == 1)
            {
                throw new InvalidOperationException("not yet");
            }

            log.Record(batch);
            return default;
        }
    }

    public sealed class RejectingBatchConsumer : IBatchConsumer<Job>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken) =>
            throw new MessageRejectedException("malformed");
    }

    public sealed class GatedBatchConsumer(Gate gate, BatchLog log) : IBatchConsumer<Job>
    {
        public async ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
        {
            await gate.PassAsync(cancellationToken);
            log.Record(batch);
        }
    }

    public sealed class CancelLateBatchConsumer(Gate gate) : IBatchConsumer<Job>
    {
        public async ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken)
        {
            try
            {
                await gate.PassAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                await Task.Yield();
                throw;
            }
        }
    }

    public sealed class TwoTypesBatchConsumer : IBatchConsumer<Job>, IBatchConsumer<OrderPlaced>
    {
        public ValueTask ConsumeAsync(Batch<Job> batch, CancellationToken cancellationToken) => default;

        public ValueTask ConsumeAsync(Batch<OrderPlaced> batch, CancellationToken cancellationToken) => default;
    }
}
