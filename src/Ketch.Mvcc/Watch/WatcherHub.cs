using Ketch.Mvcc.Index;

namespace Ketch.Mvcc.Watch;

/// <summary>
/// The synced watchers (etcd's synced watcherGroup): a map from key to single-key watchers and a
/// list of range watchers, scanned per event (fine up to a few hundred range watchers; an interval
/// tree would replace the list beyond). Not thread-safe: used under the store's lock.
/// </summary>
internal sealed class WatcherHub
{
    private readonly Dictionary<byte[], List<Watcher>> _single = new(ByteKeys.EqualityComparer);
    private readonly List<Watcher> _ranges = [];
    private readonly List<Watcher> _fallen = [];
    private readonly Dictionary<Watcher, List<WatchEvent>> _scratch = [];
    private int _prevKvCount;
    private int _count;

    /// <summary>True when a synced watcher wants previous key-values, so writers must compute them.</summary>
    public bool NeedPrevKv => _prevKvCount > 0;

    /// <summary>True when there is no synced watcher.</summary>
    public bool IsEmpty => _count == 0;

    /// <summary>Adds a synced watcher.</summary>
    public void Add(Watcher w)
    {
        if (IsRange(w.Request))
        {
            _ranges.Add(w);
        }
        else
        {
            if (!_single.TryGetValue(w.Request.Key, out var list))
            {
                _single[w.Request.Key] = list = [];
            }

            list.Add(w);
        }

        _count++;
        if (w.Request.PrevKv)
        {
            _prevKvCount++;
        }
    }

    /// <summary>Removes a watcher if present.</summary>
    public void Remove(Watcher w)
    {
        bool removed;
        if (IsRange(w.Request))
        {
            removed = _ranges.Remove(w);
        }
        else if (_single.TryGetValue(w.Request.Key, out var list))
        {
            removed = list.Remove(w);
            if (list.Count == 0)
            {
                _single.Remove(w.Request.Key);
            }
        }
        else
        {
            removed = false;
        }

        if (removed)
        {
            _count--;
            if (w.Request.PrevKv)
            {
                _prevKvCount--;
            }
        }
    }

    /// <summary>
    /// Queues the events of revision <paramref name="rev"/> for every interested synced watcher, all in
    /// one response per watcher. A watcher whose queue is full becomes unsynced at <paramref name="rev"/>;
    /// the writer never waits.
    /// </summary>
    public void Notify(long rev, List<WatchEvent> events)
    {
        if (_count == 0 || events.Count == 0)
        {
            return;
        }

        if (events.Count == 1)
        {
            NotifyOne(rev, events[0]);
        }
        else
        {
            NotifyMany(rev, events);
        }

        foreach (var w in _fallen)
        {
            Remove(w);
            w.State = WatcherState.Unsynced;
            w.FellBehind = true;
            w.NextRev = rev;
        }

        _fallen.Clear();
    }

    private void NotifyOne(long rev, WatchEvent e)
    {
        WatchResponse? withPrev = null, withoutPrev = null;
        if (_single.TryGetValue(e.Kv.Key, out var list))
        {
            foreach (var w in list)
            {
                Deliver(w, rev, e, ref withPrev, ref withoutPrev);
            }
        }

        foreach (var w in _ranges)
        {
            if (ByteKeys.InRange(e.Kv.Key, w.Request.Key, w.Request.RangeEnd))
            {
                Deliver(w, rev, e, ref withPrev, ref withoutPrev);
            }
        }
    }

    private void Deliver(Watcher w, long rev, WatchEvent e, ref WatchResponse? withPrev, ref WatchResponse? withoutPrev)
    {
        if (rev < w.MinRev || !Passes(w.Request, e))
        {
            return;
        }

        // The response carries no watcher id, so watchers wanting the same variant share it.
        var response = w.Request.PrevKv
            ? withPrev ??= new WatchResponse { Revision = rev, Events = [e] }
            : withoutPrev ??= new WatchResponse { Revision = rev, Events = [e.WithoutPrev()] };
        if (!w.TryEnqueue(response))
        {
            _fallen.Add(w);
        }
    }

    private void NotifyMany(long rev, List<WatchEvent> events)
    {
        foreach (var e in events)
        {
            if (_single.TryGetValue(e.Kv.Key, out var list))
            {
                foreach (var w in list)
                {
                    Collect(w, rev, e);
                }
            }

            foreach (var w in _ranges)
            {
                if (ByteKeys.InRange(e.Kv.Key, w.Request.Key, w.Request.RangeEnd))
                {
                    Collect(w, rev, e);
                }
            }
        }

        foreach (var (w, evs) in _scratch)
        {
            if (!w.TryEnqueue(new WatchResponse { Revision = rev, Events = evs }))
            {
                _fallen.Add(w);
            }
        }

        _scratch.Clear();
    }

    private void Collect(Watcher w, long rev, WatchEvent e)
    {
        if (rev < w.MinRev || !Passes(w.Request, e))
        {
            return;
        }

        if (!_scratch.TryGetValue(w, out var evs))
        {
            _scratch[w] = evs = [];
        }

        evs.Add(w.Request.PrevKv ? e : e.WithoutPrev());
    }

    /// <summary>The event filters of a watch request.</summary>
    public static bool Passes(WatchRequest r, WatchEvent e) =>
        e.Type == WatchEventType.Put ? !r.NoPut : !r.NoDelete;

    private static bool IsRange(WatchRequest r) => r.RangeEnd is { Length: > 0 };
}
