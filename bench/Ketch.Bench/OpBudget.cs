using System.Diagnostics;

namespace Ketch.Bench;

/// <summary>
/// Hands out the run's operations to its clients: at most <c>--total</c> of them, none after
/// <c>--duration</c> or cancellation. Safe to call from every client at once.
/// </summary>
internal sealed class OpBudget
{
    private readonly long _deadlineTimestamp;
    private readonly CancellationToken _cancel;
    private long _remaining;

    public OpBudget(long? total, TimeSpan? duration, CancellationToken cancel)
    {
        _remaining = total ?? long.MaxValue;
        _deadlineTimestamp = duration is { } d
            ? Stopwatch.GetTimestamp() + (long)(d.TotalSeconds * Stopwatch.Frequency)
            : long.MaxValue;
        _cancel = cancel;
        Total = total;
    }

    public long? Total { get; }

    public bool TryTake()
    {
        if (_cancel.IsCancellationRequested || Stopwatch.GetTimestamp() >= _deadlineTimestamp)
        {
            return false;
        }
        return Interlocked.Decrement(ref _remaining) >= 0;
    }
}
