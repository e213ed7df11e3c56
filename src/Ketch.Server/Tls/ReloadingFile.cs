using Microsoft.Extensions.Logging;

namespace Ketch.Server.Tls;

/// <summary>
/// A value parsed from one or more files, parsed again when any of them changes on disk (last
/// write time or length), checked each time the value is asked for, that is once per TLS
/// handshake. etcd 3.4 reads its certificate files on every handshake (pkg/transport
/// <c>GetCertificate</c>) so that rotated certificates apply without a restart; two
/// <c>stat</c> calls per file and handshake give the same effect without parsing PEM each time.
/// </summary>
/// <remarks>Unlike etcd, a change that does not parse (a certificate replaced before its key, a
/// file half written) keeps the last good value and logs a warning instead of failing every
/// handshake until the files agree again; the next change is tried again.</remarks>
internal sealed partial class ReloadingFile<T>
    where T : class
{
    private readonly string[] _paths;
    private readonly Func<T> _load;
    private readonly ILogger _log;
    private readonly Lock _gate = new();
    private Loaded _current;

    /// <summary>Loads the value now; a failure here is the caller's (a start-up error).</summary>
    public ReloadingFile(string[] paths, Func<T> load, ILogger log)
    {
        _paths = paths;
        _load = load;
        _log = log;
        // The stamp before the load: a write in between makes the next read load again.
        var stamp = Stamp();
        _current = new Loaded(stamp, load());
    }

    /// <summary>The value for the files as they are now.</summary>
    public T Value
    {
        get
        {
            var stamp = Stamp();
            var current = Volatile.Read(ref _current);
            if (stamp.AsSpan().SequenceEqual(current.Stamp))
            {
                return current.Value;
            }
            lock (_gate)
            {
                current = _current;
                if (stamp.AsSpan().SequenceEqual(current.Stamp))
                {
                    return current.Value;
                }
                T value;
                try
                {
                    value = _load();
                    LogReloaded(_log, string.Join(", ", _paths));
                }
                catch (ArgumentException e)
                {
                    LogReloadFailed(_log, string.Join(", ", _paths), e.Message);
                    value = current.Value;
                }
                Volatile.Write(ref _current, new Loaded(stamp, value));
                return value;
            }
        }
    }

    private long[] Stamp()
    {
        var stamp = new long[_paths.Length * 2];
        for (var i = 0; i < _paths.Length; i++)
        {
            var info = new FileInfo(_paths[i]);
            // A missing file reads as (0, -1): a change like any other, and its load fails.
            stamp[2 * i] = info.Exists ? info.LastWriteTimeUtc.Ticks : 0;
            stamp[(2 * i) + 1] = info.Exists ? info.Length : -1;
        }
        return stamp;
    }

    private sealed record Loaded(long[] Stamp, T Value);

    [LoggerMessage(Level = LogLevel.Information, Message = "TLS files changed, reloaded: {Files}")]
    private static partial void LogReloaded(ILogger log, string files);

    [LoggerMessage(Level = LogLevel.Warning, Message = "TLS files changed but do not load, keeping the previous ones: {Files}: {Reason}")]
    private static partial void LogReloadFailed(ILogger log, string files, string reason);
}
