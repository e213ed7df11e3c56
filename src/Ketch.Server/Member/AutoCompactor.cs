using System.Globalization;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Member;

/// <summary>
/// etcd's auto compaction, run by the leader through Raft. <c>periodic</c>: the retention is a
/// duration (<c>1h</c>, <c>30m</c>, or a number of hours); the store is compacted to the revision
/// it had one retention ago, sampled every tenth of the retention. <c>revision</c>: every check
/// (5 minutes) compacts to the current revision minus the retention.
/// </summary>
internal sealed partial class AutoCompactor : IAsyncDisposable
{
    private readonly RaftLoop _loop;
    private readonly ILogger _log;
    private readonly TimeProvider _time;
    private readonly bool _periodic;
    private readonly TimeSpan _retention;
    private readonly long _retainRevisions;
    private readonly Queue<(DateTimeOffset At, long Revision)> _samples = new();
    private readonly ITimer _timer;
    private long _lastCompacted;
    private int _running;

    private AutoCompactor(RaftLoop loop, ILogger log, TimeProvider time, bool periodic, TimeSpan retention, long retainRevisions, TimeSpan interval)
    {
        _loop = loop;
        _log = log;
        _time = time;
        _periodic = periodic;
        _retention = retention;
        _retainRevisions = retainRevisions;
        _timer = time.CreateTimer(_ => _ = CheckAsync(), null, interval, interval);
    }

    /// <summary>Starts the compactor the options ask for; null when retention is 0.</summary>
    public static AutoCompactor? Start(RaftLoop loop, KetchServerOptions o, ILogger log)
    {
        var text = o.AutoCompactionRetention.Trim();
        if (o.AutoCompactionMode == "revision")
        {
            var revs = long.Parse(text, CultureInfo.InvariantCulture);
            return revs <= 0 ? null : new AutoCompactor(loop, log, o.TimeProvider, false, TimeSpan.Zero, revs,
                o.AutoCompactionCheckInterval > TimeSpan.Zero ? o.AutoCompactionCheckInterval : TimeSpan.FromMinutes(5));
        }
        var retention = ParseDuration(text);
        if (retention <= TimeSpan.Zero)
        {
            return null;
        }
        var interval = o.AutoCompactionCheckInterval > TimeSpan.Zero ? o.AutoCompactionCheckInterval : retention / 10;
        return new AutoCompactor(loop, log, o.TimeProvider, true, retention, 0, interval);
    }

    /// <summary>etcd's retention syntax: a Go duration (<c>1h30m</c>, <c>10m</c>, <c>5s</c>) or a number of hours.</summary>
    public static TimeSpan ParseDuration(string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var hours))
        {
            return TimeSpan.FromHours(hours);
        }
        var total = TimeSpan.Zero;
        var i = 0;
        while (i < text.Length)
        {
            var start = i;
            while (i < text.Length && (char.IsDigit(text[i]) || text[i] == '.'))
            {
                i++;
            }
            var number = double.Parse(text[start..i], CultureInfo.InvariantCulture);
            var unitStart = i;
            while (i < text.Length && char.IsLetter(text[i]))
            {
                i++;
            }
            total += text[unitStart..i] switch
            {
                "h" => TimeSpan.FromHours(number),
                "m" => TimeSpan.FromMinutes(number),
                "s" => TimeSpan.FromSeconds(number),
                "ms" => TimeSpan.FromMilliseconds(number),
                _ => throw new ArgumentException($"invalid auto-compaction-retention \"{text}\""),
            };
        }
        return total;
    }

    private async Task CheckAsync()
    {
        if (Interlocked.Exchange(ref _running, 1) == 1)
        {
            return;
        }
        try
        {
            var now = _time.GetUtcNow();
            var current = _loop.Kv.CurrentRevision;
            long target = 0;
            if (_periodic)
            {
                _samples.Enqueue((now, current));
                while (_samples.Count > 0 && now - _samples.Peek().At >= _retention)
                {
                    target = _samples.Dequeue().Revision;
                }
            }
            else
            {
                target = current - _retainRevisions;
            }
            if (!_loop.IsLeader || target <= _lastCompacted || target <= _loop.Kv.CompactRevision || target < 1)
            {
                return;
            }
            var result = await _loop.ProposeAsync(RaftRequestKind.Compaction, new CompactionRequest { Revision = target }, CancellationToken.None).ConfigureAwait(false);
            _lastCompacted = target;
            if (result.Error is null)
            {
                LogCompacted(_log, target);
            }
        }
        catch (RpcException)
        {
            // no leader, timeout: the next check tries again
        }
        finally
        {
            Volatile.Write(ref _running, 0);
        }
    }

    public ValueTask DisposeAsync() => _timer.DisposeAsync();

    [LoggerMessage(Level = LogLevel.Information, Message = "auto compaction: compacted at revision {Revision}")]
    private static partial void LogCompacted(ILogger log, long revision);
}
