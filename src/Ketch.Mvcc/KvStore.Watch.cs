using Ketch.Mvcc.Index;
using Ketch.Mvcc.Watch;

namespace Ketch.Mvcc;

public sealed partial class KvStore
{
    /// <summary>Records examined per catch-up step before the lock is released.</summary>
    private const int CatchUpScanBudget = 10_000;

    /// <summary>
    /// Watches a key or range from a revision (0: from the next one). Events come ordered by revision,
    /// each revision whole in one response, with no gaps and no repeats; a start revision below the
    /// compaction gives one cancelled response carrying the compacted revision.
    /// </summary>
    public Watcher Watch(WatchRequest request)
    {
        if (request.Key.Length == 0)
        {
            throw new MvccException(MvccError.EmptyKey);
        }

        lock (_lock)
        {
            ThrowIfClosed();
            var w = new Watcher(this, ++_nextWatcherId, request, _options.WatchQueueCapacity);
            _watchers.Add(w);
            var start = request.StartRevision;
            if (start <= 0 || start > _currentRev)
            {
                w.State = WatcherState.Synced;
                w.MinRev = start <= 0 ? _currentRev + 1 : start;
                _hub.Add(w);
            }
            else
            {
                w.State = WatcherState.Unsynced;
                w.NextRev = start;
            }

            return w;
        }
    }

    /// <summary>One step of <see cref="Watcher.ReadAsync"/> under the lock.</summary>
    internal (WatchResponse? Response, PullStep Step) Pull(Watcher w)
    {
        lock (_lock)
        {
            // Queued responses first: they precede anything a catch-up would read.
            if (w.TryDequeue(out var queued))
            {
                return (queued, PullStep.Response);
            }

            if (w.State == WatcherState.Synced && w.ProgressDeferred && !StartsLater(w))
            {
                // Synced and nothing queued: every event up to the current revision was read.
                w.ProgressDeferred = false;
                return (Progress(), PullStep.Response);
            }

            return w.State switch
            {
                WatcherState.Canceled => (null, PullStep.Finished),
                WatcherState.Synced => (null, PullStep.Wait),
                _ => CatchUp(w),
            };
        }
    }

    internal bool RequestProgress(Watcher w, bool deferUntilSynced)
    {
        lock (_lock)
        {
            // A watcher from a future revision would learn of a revision before its start: none, as
            // etcd since 3.5.22 (etcd-io/etcd#20229).
            if (w.State == WatcherState.Synced && StartsLater(w))
            {
                return false;
            }

            // As etcd: only a synced watcher can promise that everything up to now was sent. Queued
            // behind the events already queued, so it never runs ahead of them.
            if (w.State == WatcherState.Synced && w.TryEnqueue(Progress()))
            {
                return true;
            }

            if (deferUntilSynced && w.State != WatcherState.Canceled)
            {
                w.ProgressDeferred = true;
            }

            return false;
        }
    }

    private WatchResponse Progress() => new() { Revision = _currentRev, IsProgressNotify = true };

    private bool StartsLater(Watcher w) => w.MinRev > _currentRev + 1;

    internal void CancelWatcher(Watcher w)
    {
        lock (_lock)
        {
            if (w.State != WatcherState.Canceled)
            {
                _hub.Remove(w);
                w.State = WatcherState.Canceled;
                _watchers.Remove(w);
                w.Complete();
            }
        }
    }

    /// <summary>
    /// Reads the watcher's next revisions from the backend (etcd's unsynced group, served by the
    /// reader): whole revisions until about <see cref="KvStoreOptions.MaxEventsPerWatchResponse"/>
    /// events; once at the current revision the watcher joins the synced group.
    /// </summary>
    private (WatchResponse?, PullStep) CatchUp(Watcher w)
    {
        if (w.NextRev < _compactRev)
        {
            w.State = WatcherState.Canceled;
            _watchers.Remove(w);
            w.Complete();
            return (new WatchResponse
            {
                Revision = _currentRev,
                Canceled = true,
                CompactRevision = _compactRev,
                CancelReason = MvccException.TextOf(MvccError.Compacted),
            }, PullStep.Response);
        }

        var lag = _currentRev - w.NextRev;
        // Only a reader that fell behind is judged: replaying history from an old start
        // revision, as etcd allows, is not being slow.
        if (w.FellBehind && _options.MaxWatcherLagRevisions > 0 && lag > _options.MaxWatcherLagRevisions)
        {
            // Memory is bounded either way (the queue, then reads from the backend); this bounds
            // the work a watcher that never keeps up makes the store do. The client learns where
            // to resume and may watch again from there.
            w.State = WatcherState.Canceled;
            _watchers.Remove(w);
            w.Complete();
            return (new WatchResponse
            {
                Revision = _currentRev,
                Canceled = true,
                CancelReason = $"mvcc: watcher is too slow: {lag} revisions behind (over {_options.MaxWatcherLagRevisions}); resume from revision {w.NextRev}",
            }, PullStep.Response);
        }

        var events = new List<WatchEvent>();
        long currentMain = -1, next = 0;
        var scanned = 0;
        var done = true;
        foreach (var (rev, kv) in _backend.ScanRevisions(new Revision(w.NextRev, 0)))
        {
            if (rev.Main != currentMain)
            {
                if (events.Count >= _options.MaxEventsPerWatchResponse || scanned >= CatchUpScanBudget)
                {
                    next = rev.Main;
                    done = false;
                    break;
                }

                currentMain = rev.Main;
            }

            scanned++;
            if (!ByteKeys.InRange(kv.Key, w.Request.Key, w.Request.RangeEnd))
            {
                continue;
            }

            var e = new WatchEvent
            {
                Type = kv.IsTombstone ? WatchEventType.Delete : WatchEventType.Put,
                Kv = kv,
                PrevKv = w.Request.PrevKv ? PreviousOf(kv.Key, rev.Main) : null,
            };
            if (WatcherHub.Passes(w.Request, e))
            {
                events.Add(e);
            }
        }

        if (done)
        {
            w.FellBehind = false;
            w.State = WatcherState.Synced;
            w.MinRev = _currentRev + 1;
            _hub.Add(w);
        }
        else
        {
            w.NextRev = next;
        }

        if (events.Count > 0)
        {
            // A deferred progress notification follows on the next pull, after these events.
            return (new WatchResponse { Revision = _currentRev, Events = events }, PullStep.Response);
        }

        if (done && w.ProgressDeferred)
        {
            w.ProgressDeferred = false;
            return (Progress(), PullStep.Response);
        }

        return (null, done ? PullStep.Wait : PullStep.Again);
    }

    /// <summary>The key-value of <paramref name="key"/> just before revision <paramref name="main"/>, if known.</summary>
    private KeyValue? PreviousOf(byte[] key, long main) =>
        main - 1 >= _compactRev && _index.Find(key) is { } ki && ki.TryGet(main - 1, out var mod, out _, out _)
            ? Fetch(mod, keysOnly: false)
            : null;
}
