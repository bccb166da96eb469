namespace Bus;

/// <summary>
/// A periodic check that runs only while it is needed: armed by whoever sees a reason for it, it calls
/// <c>tick</c> every period until <c>tick</c> answers that there is nothing left to watch, then stops.
/// </summary>
/// <remarks>
/// Arming is cheap to ask for (<see cref="IsArmed"/> is one read) and rare to do. Arming and disarming change the flag
/// and the timer together under one lock, so the timer runs exactly while the flag says armed. A tick may still disarm
/// right after an arm, having looked before the reason to arm appeared; that reason is not lost: the disarm is a full
/// fence followed by <c>stillNeeded</c>, and whoever created the reason wrote it, fenced, then read
/// <see cref="IsArmed"/>; of two such threads at least one sees the other's write, so the check is armed again.
/// </remarks>
internal sealed class StallCheck
{
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly Func<bool> _tick;
    private readonly Func<bool> _stillNeeded;
    private readonly Lock _lock = new();
    private ITimer? _timer;
    private int _armed;

    /// <param name="time">The clock.</param>
    /// <param name="period">How often to check while armed.</param>
    /// <param name="tick">The check; returns false when there is nothing left to watch.</param>
    /// <param name="stillNeeded">Asked right after disarming: true re-arms.</param>
    public StallCheck(TimeProvider time, TimeSpan period, Func<bool> tick, Func<bool> stillNeeded)
    {
        _time = time;
        _period = period;
        _tick = tick;
        _stillNeeded = stillNeeded;
    }

    public bool IsArmed => Volatile.Read(ref _armed) != 0;

    public void Arm()
    {
        lock (_lock)
        {
            if (_armed != 0)
            {
                return;
            }

            Interlocked.Exchange(ref _armed, 1);
            if (_timer is null)
            {
                // Without the arming thread's execution context: the check belongs to the queue, not to a publish.
                using (ExecutionContext.SuppressFlow())
                {
                    _timer = _time.CreateTimer(static state => ((StallCheck)state!).OnTick(), this, _period, _period);
                }
            }
            else
            {
                _timer.Change(_period, _period);
            }
        }
    }

    private void OnTick()
    {
        if (_tick())
        {
            return;
        }

        lock (_lock)
        {
            Interlocked.Exchange(ref _armed, 0);
            _timer!.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        if (_stillNeeded())
        {
            Arm();
        }
    }
}
