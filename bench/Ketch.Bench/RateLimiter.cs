using System.Diagnostics;

namespace Ketch.Bench;

/// <summary>
/// Spaces operations evenly at a fixed rate over all clients: each caller reserves the next
/// free slot (one interval after the previous one, never in the past) and waits for it.
/// Unlimited when the rate is 0.
/// </summary>
internal sealed class RateLimiter(double opsPerSecond)
{
    private readonly long _intervalTicks = opsPerSecond > 0 ? Math.Max(1, (long)(Stopwatch.Frequency / opsPerSecond)) : 0;
    private long _nextTimestamp;

    public bool Unlimited => _intervalTicks == 0;

    public ValueTask WaitAsync(CancellationToken cancel)
    {
        if (_intervalTicks == 0)
        {
            return ValueTask.CompletedTask;
        }
        var now = Stopwatch.GetTimestamp();
        long slot;
        while (true)
        {
            var next = Volatile.Read(ref _nextTimestamp);
            slot = Math.Max(next, now);
            if (Interlocked.CompareExchange(ref _nextTimestamp, slot + _intervalTicks, next) == next)
            {
                break;
            }
        }
        var wait = Stopwatch.GetElapsedTime(now, slot);
        // Timers tick about every millisecond: below that, go now.
        return wait < TimeSpan.FromMilliseconds(1) ? ValueTask.CompletedTask : new ValueTask(DelayAsync(wait, cancel));
    }

    private static async Task DelayAsync(TimeSpan wait, CancellationToken cancel)
    {
        try
        {
            await Task.Delay(wait, cancel).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The run is ending; the budget says so to the caller.
        }
    }
}
