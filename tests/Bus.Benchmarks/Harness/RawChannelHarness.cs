using System.Threading.Channels;

namespace Bus.Benchmarks;

/// <summary>
/// The physical limit of Bus's design: a bounded <see cref="Channel{T}"/> of the same capacity as a Bus queue (1024,
/// Wait mode), one writer awaiting <c>WriteAsync</c>, and one reader loop (<c>WaitToReadAsync</c> then <c>TryRead</c>)
/// per consumer.
/// </summary>
public sealed class RawChannelHarness(int channels = 1, int readersPerChannel = 1) : IThroughputHarness
{
    private readonly Countdown _countdown = new();
    private readonly List<Task> _readers = [];
    private Channel<OrderPlaced>[] _channels = [];

    public Task StartAsync()
    {
        _channels = new Channel<OrderPlaced>[channels];
        for (var c = 0; c < channels; c++)
        {
            _channels[c] = Channel.CreateBounded<OrderPlaced>(new BoundedChannelOptions(1024)
            {
                FullMode = BoundedChannelFullMode.Wait,
                SingleReader = readersPerChannel == 1,
            });
            for (var r = 0; r < readersPerChannel; r++)
            {
                var reader = _channels[c].Reader;
                _readers.Add(Task.Run(() => ReadAsync(reader)));
            }
        }

        return Task.CompletedTask;
    }

    public async Task PublishAndWaitAsync(int count)
    {
        _countdown.Reset(count * _channels.Length);
        var channels = _channels;
        for (var i = 0; i < count; i++)
        {
            var message = new OrderPlaced(i, 10m);
            foreach (var channel in channels)
            {
                await channel.Writer.WriteAsync(message);
            }
        }

        await _countdown.WaitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var channel in _channels)
        {
            channel.Writer.TryComplete();
        }

        await Task.WhenAll(_readers);
    }

    private async Task ReadAsync(ChannelReader<OrderPlaced> reader)
    {
        while (await reader.WaitToReadAsync())
        {
            while (reader.TryRead(out _))
            {
                _countdown.Signal();
            }
        }
    }
}
