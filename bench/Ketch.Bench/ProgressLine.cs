using System.Diagnostics;

namespace Ketch.Bench;

/// <summary>
/// Prints "workload done/total ops/s errors elapsed" to stderr while a run goes: rewritten in
/// place on a terminal every half second, one line every 5 s when stderr is a file or pipe.
/// </summary>
internal sealed class ProgressLine : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly bool _inPlace = !Console.IsErrorRedirected;
    private readonly bool _enabled;

    public ProgressLine(string label, long? total, IReadOnlyList<ClientStats> stats, bool enabled)
    {
        _enabled = enabled;
        _loop = enabled ? RunAsync(label, total, stats, _stop.Token) : Task.CompletedTask;
    }

    private async Task RunAsync(string label, long? total, IReadOnlyList<ClientStats> stats, CancellationToken stop)
    {
        var start = Stopwatch.GetTimestamp();
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(_inPlace ? 500 : 5000));
        long lastDone = 0;
        var lastAt = start;
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                long done = 0, errors = 0;
                foreach (var s in stats)
                {
                    done += s.Completed;
                    errors += s.Errors;
                }
                var now = Stopwatch.GetTimestamp();
                var rate = (done - lastDone) / Math.Max(1e-9, Stopwatch.GetElapsedTime(lastAt, now).TotalSeconds);
                lastDone = done;
                lastAt = now;
                var of = total is { } t ? $"/{t:N0}" : "";
                var line = $"{label} {done:N0}{of} ops  {rate:N0}/s  errors {errors:N0}  {Stopwatch.GetElapsedTime(start, now).TotalSeconds:F1}s";
                await Console.Error.WriteAsync(_inPlace ? "\r" + line.PadRight(78) : line + Environment.NewLine).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // Stopped by DisposeAsync.
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (_enabled && _inPlace)
        {
            await Console.Error.WriteAsync("\r" + new string(' ', 78) + "\r").ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
