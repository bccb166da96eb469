namespace Bus;

/// <summary>
/// Watches a busy lane of a queue with more than one slot for read loops stuck in consumers that block their thread:
/// while armed, every <see cref="Period"/> it asks its <see cref="QueueReader"/> to look (see
/// <see cref="QueueReader.OnStallTick"/>). Armed when a read loop starts or wakes with messages, disarmed by the look that
/// finds a loop idle and nothing moving, so an idle queue has no timer running.
/// </summary>
/// <remarks>
/// Arming, disarming and the look all happen under the reader's lock, so the timer runs exactly while
/// <see cref="IsArmed"/> says so; a tick that fires after a disarm finds it false and does nothing. The timer runs on
/// the system clock even when the bus's <see cref="TimeProvider"/> is fake: it keeps messages moving, which no test
/// should have to move a clock for.
/// </remarks>
internal sealed class StallWatch(QueueReader reader) : IDisposable
{
    /// <summary>How often an armed watch looks.</summary>
    public static readonly TimeSpan Period = TimeSpan.FromMilliseconds(1);

    private ITimer? _timer;
    private bool _disposed;

    public bool IsArmed { get; private set; }

    /// <summary>Starts looking, unless already; under the reader's lock.</summary>
    public void Arm()
    {
        if (IsArmed || _disposed)
        {
            return;
        }

        IsArmed = true;
        if (_timer is null)
        {
            using (ExecutionContext.SuppressFlow())
            {
                _timer = TimeProvider.System.CreateTimer(static state => ((StallWatch)state!).Tick(), this, Period, Period);
            }
        }
        else
        {
            _timer.Change(Period, Period);
        }
    }

    /// <summary>Stops looking until armed again; under the reader's lock.</summary>
    public void DisarmLocked()
    {
        IsArmed = false;
        _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Stops for good; under the reader's lock.</summary>
    public void Dispose()
    {
        _disposed = true;
        IsArmed = false;
        _timer?.Dispose();
    }

    private void Tick() => reader.OnStallTick(this);
}
