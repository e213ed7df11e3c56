using System.Diagnostics;
using System.Globalization;

namespace Ketch.Ctl.Check;

/// <summary>
/// The progress counter etcdctl's <c>check</c> commands print (cheggaaa/pb v1 with its bar hidden, as it is
/// when stdout is not a terminal): every 200 ms a new line <c>" 12 / 60   20.00% 00m47s"</c> (count, percent,
/// time left while it is at least a second), and when finished the count with the elapsed time
/// (<c>" 60 / 60  100.00% 1m0s"</c>).
/// </summary>
internal sealed class ProgressBar : IAsyncDisposable
{
    private static readonly TimeSpan s_refresh = TimeSpan.FromMilliseconds(200);
    private readonly TextWriter _out;
    private readonly long _total;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _loop;
    private readonly Lock _lock = new();
    private long _current;
    private TimeSpan _lastChange;

    public ProgressBar(TextWriter output, long total)
    {
        _out = output;
        _total = total;
        _loop = RefreshAsync();
    }

    public void Add(long n = 1)
    {
        lock (_lock)
        {
            _current += n;
            _lastChange = _clock.Elapsed;
        }
    }

    /// <summary>Stops refreshing and prints the final line.</summary>
    public async Task FinishAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        var elapsed = TimeSpan.FromSeconds(Math.Floor(_clock.Elapsed.TotalSeconds));
        await WriteAsync(Line(Interlocked.Read(ref _current), " " + GoFormat.Duration(elapsed)) + "\n").ConfigureAwait(false);
    }

    private async Task RefreshAsync()
    {
        try
        {
            while (true)
            {
                await Task.Delay(s_refresh, _stop.Token).ConfigureAwait(false);
                long current;
                TimeSpan lastChange;
                lock (_lock)
                {
                    current = _current;
                    lastChange = _lastChange;
                }
                await WriteAsync(Line(current, TimeLeft(current, lastChange))).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task WriteAsync(string s)
    {
        await _out.WriteAsync("\n" + s).ConfigureAwait(false);
        await _out.FlushAsync().ConfigureAwait(false);
    }

    private string Line(long current, string time)
    {
        var percent = _total == 0 ? 0 : current * 100.0 / _total;
        return string.Create(CultureInfo.InvariantCulture, $" {current} / {_total} {percent,7:0.00}%{time}");
    }

    /// <summary>pb's estimate: time per step so far, times the steps left, less the time since the last step.</summary>
    private string TimeLeft(long current, TimeSpan lastChange)
    {
        if (current <= 0)
        {
            return "";
        }
        var left = (lastChange / current * (_total - current)) - (_clock.Elapsed - lastChange);
        var seconds = (long)Math.Floor(left.TotalSeconds);
        return seconds <= 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" {seconds / 60:00}m{seconds % 60:00}s");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await _stop.CancelAsync().ConfigureAwait(false);
            await _loop.ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}
