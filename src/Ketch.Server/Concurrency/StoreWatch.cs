using Ketch.Mvcc;
using Ketch.Server.Member;
using MvccWatchRequest = Ketch.Mvcc.WatchRequest;
using MvccWatchResponse = Ketch.Mvcc.WatchResponse;

namespace Ketch.Server.Concurrency;

/// <summary>
/// A watch on this member's own store for the server-side recipes (election, lock): what
/// etcd's recipes get from a client watch, without a gRPC stream. It follows the store when a
/// snapshot from the leader replaces it, resuming from the first revision not yet delivered.
/// </summary>
internal sealed class StoreWatch : IDisposable
{
    private readonly RaftLoop _loop;
    private readonly byte[] _key;
    private readonly byte[]? _rangeEnd;
    private KvStore _store;
    private Watcher _watcher;
    private long _nextRevision;

    /// <summary>Watches <paramref name="key"/> (or the range up to <paramref name="rangeEnd"/>)
    /// from <paramref name="startRevision"/> (0: from the next revision).</summary>
    public StoreWatch(RaftLoop loop, byte[] key, byte[]? rangeEnd, long startRevision)
    {
        _loop = loop;
        _key = key;
        _rangeEnd = rangeEnd;
        _store = loop.Kv;
        _nextRevision = startRevision > 0 ? startRevision : _store.CurrentRevision + 1;
        _watcher = Open(_store);
    }

    /// <summary>The next events (one or more whole revisions); null when the watch cannot go on:
    /// its start revision was compacted or the member is stopping.</summary>
    public async Task<IReadOnlyList<WatchEvent>?> NextAsync(CancellationToken ct)
    {
        while (true)
        {
            MvccWatchResponse? r;
            try
            {
                r = await _watcher.ReadAsync(ct).ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                r = null;
            }
            if (r is null)
            {
                if (!await ReopenAsync(ct).ConfigureAwait(false))
                {
                    return null;
                }
                continue;
            }
            if (r.Canceled)
            {
                return null;
            }
            if (r.Events.Count == 0)
            {
                continue;
            }
            _nextRevision = r.Events[^1].Kv.ModRevision + 1;
            return r.Events;
        }
    }

    private Watcher Open(KvStore store) => store.Watch(new MvccWatchRequest
    {
        Key = _key,
        RangeEnd = _rangeEnd,
        StartRevision = _nextRevision,
    });

    /// <summary>The old store closes before the new one opens: wait (bounded, as the watch
    /// sessions do) for the swap, then watch the new store from where we were.</summary>
    private async Task<bool> ReopenAsync(CancellationToken ct)
    {
        var store = _loop.Kv;
        for (var i = 0; i < 100 && ReferenceEquals(store, _store); i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), ct).ConfigureAwait(false);
            store = _loop.Kv;
        }
        if (ReferenceEquals(store, _store))
        {
            return false;
        }
        try
        {
            _watcher.Dispose();
            _watcher = Open(store);
            _store = store;
            return true;
        }
        catch (Exception e) when (e is MvccException or ObjectDisposedException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            _watcher.Dispose();
        }
        catch (ObjectDisposedException)
        {
        }
    }
}
