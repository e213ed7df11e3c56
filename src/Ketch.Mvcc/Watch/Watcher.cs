using System.Threading.Channels;

namespace Ketch.Mvcc;

/// <summary>
/// One watch on a key or range. Pull design: the writer hands each revision's events to a synced
/// watcher through a bounded queue without ever waiting; when the queue is full the watcher becomes
/// unsynced and <see cref="ReadAsync"/> later catches it up from the backend, in the reader's own
/// time, so a slow reader costs neither the writer nor other watchers, and memory stays bounded by
/// the queue capacity.
/// </summary>
public sealed class Watcher : IDisposable
{
    private readonly KvStore _store;
    private readonly Channel<WatchResponse> _queue;
    private long _pendingEvents;

    internal Watcher(KvStore store, long id, WatchRequest request, int capacity)
    {
        _store = store;
        Id = id;
        Request = request;
        _queue = Channel.CreateBounded<WatchResponse>(new BoundedChannelOptions(capacity)
        {
            SingleReader = false,
            SingleWriter = false,
            FullMode = BoundedChannelFullMode.Wait,
            AllowSynchronousContinuations = false,
        });
    }

    /// <summary>The store-wide id of this watcher.</summary>
    public long Id { get; }

    /// <summary>What this watcher watches.</summary>
    internal WatchRequest Request { get; }

    /// <summary>Where this watcher stands; changed only under the store's lock.</summary>
    internal WatcherState State { get; set; }

    /// <summary>Unsynced: the first revision not yet delivered.</summary>
    internal long NextRev { get; set; }

    /// <summary>Whether the watcher fell out of the synced group because its queue was full
    /// (a slow reader), as opposed to catching up from the start revision it asked for.</summary>
    internal bool FellBehind { get; set; }

    /// <summary>Synced: events below this revision are not delivered (a start revision in the future).</summary>
    internal long MinRev { get; set; }

    /// <summary>A requested progress notification waits for the watcher to be synced with an empty
    /// queue (etcd 3.5.8+ defers it the same way rather than dropping it, etcd-io/etcd#15220).</summary>
    internal bool ProgressDeferred { get; set; }

    /// <summary>
    /// The next response: queued events first, then catch-up from the backend; waits when synced and
    /// idle. Null once the watcher is cancelled and everything before was read.
    /// </summary>
    public async ValueTask<WatchResponse?> ReadAsync(CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (TryDequeue(out var queued))
            {
                _store.Stats.Delivered(queued.Events.Count);
                return queued;
            }

            var (response, step) = _store.Pull(this);
            switch (step)
            {
                case PullStep.Response:
                    _store.Stats.Delivered(response!.Events.Count);
                    return response;
                case PullStep.Finished:
                    return null;
                case PullStep.Again:
                    continue;
                default:
                    _ = await _queue.Reader.WaitToReadAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>
    /// Queues a progress notification if the watcher is synced; returns whether one was queued. A
    /// notification promises that every event up to its revision was delivered, so a watcher still
    /// catching up gets none now: with <paramref name="deferUntilSynced"/> (a client's progress
    /// request) it gets one as soon as it has caught up; without (the periodic notification), none.
    /// </summary>
    public bool RequestProgress(bool deferUntilSynced = false) => _store.RequestProgress(this, deferUntilSynced);

    /// <summary>Cancels the watcher; queued responses can still be read.</summary>
    public void Dispose() => _store.CancelWatcher(this);

    internal bool TryEnqueue(WatchResponse response)
    {
        // Counted before the write, so a reader that takes it at once never sees the count negative.
        Interlocked.Add(ref _pendingEvents, response.Events.Count);
        if (_queue.Writer.TryWrite(response))
        {
            return true;
        }
        Interlocked.Add(ref _pendingEvents, -response.Events.Count);
        return false;
    }

    internal bool TryDequeue(out WatchResponse response)
    {
        if (!_queue.Reader.TryRead(out response!))
        {
            return false;
        }
        Interlocked.Add(ref _pendingEvents, -response.Events.Count);
        return true;
    }

    /// <summary>Events queued for this watcher's reader and not yet read.</summary>
    internal long PendingEvents => Interlocked.Read(ref _pendingEvents);

    internal void Complete() => _queue.Writer.TryComplete();
}
