using System.Threading.Channels;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Mvcc;
using Ketch.Server.Apply;
using MvccWatchRequest = Ketch.Mvcc.WatchRequest;
using MvccWatchResponse = Ketch.Mvcc.WatchResponse;
using WatchRequest = Ketch.Api.Etcdserverpb.WatchRequest;
using WatchResponse = Ketch.Api.Etcdserverpb.WatchResponse;

namespace Ketch.Server.Api;

/// <summary>
/// One Watch stream: many watchers multiplexed by watch id. Each watcher has a reader task that
/// pulls the store's responses (ordered, whole revisions) and queues them; one writer task sends
/// the queue on the stream (a gRPC stream takes one writer). The queue is bounded, so a slow
/// client slows its readers, and the store turns them into catching-up watchers.
/// </summary>
internal sealed class WatchSession : IAsyncDisposable
{
    private const int OutboundCapacity = 1024;
    private readonly MemberContext _member;
    private readonly IServerStreamWriter<WatchResponse> _stream;
    private readonly Channel<WatchResponse> _out = Channel.CreateBounded<WatchResponse>(new BoundedChannelOptions(OutboundCapacity) { SingleReader = true });
    private readonly Dictionary<long, Entry> _watchers = [];
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stop;
    private readonly ITimer _progressTimer;
    private long _nextId;

    public WatchSession(MemberContext member, IServerStreamWriter<WatchResponse> stream, CancellationToken ct)
    {
        _member = member;
        _stream = stream;
        _stop = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var every = member.Options.WatchProgressNotifyInterval;
        _progressTimer = member.Options.TimeProvider.CreateTimer(_ => PeriodicProgress(), null, every, every);
    }

    public async Task RunWriterAsync()
    {
        try
        {
            await foreach (var resp in _out.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                await _stream.WriteAsync(resp, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (InvalidOperationException)
        {
            // the call ended while writing
        }
        catch (IOException)
        {
        }
        finally
        {
            await _stop.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>Completes when the call ends (the stream's token is cancelled).</summary>
    public CancellationToken Stopped => _stop.Token;

    public async ValueTask HandleAsync(WatchRequest request)
    {
        switch (request.RequestUnionCase)
        {
            case WatchRequest.RequestUnionOneofCase.CreateRequest:
                await CreateAsync(request.CreateRequest).ConfigureAwait(false);
                break;
            case WatchRequest.RequestUnionOneofCase.CancelRequest:
                await CancelAsync(request.CancelRequest.WatchId).ConfigureAwait(false);
                break;
            case WatchRequest.RequestUnionOneofCase.ProgressRequest:
                lock (_lock)
                {
                    foreach (var e in _watchers.Values)
                    {
                        e.Watcher.RequestProgress(deferUntilSynced: true);
                    }
                }
                break;
        }
    }

    private async ValueTask CreateAsync(WatchCreateRequest c)
    {
        long id;
        lock (_lock)
        {
            if (c.WatchId != 0 && _watchers.ContainsKey(c.WatchId))
            {
                id = -1;
            }
            else if (c.WatchId != 0)
            {
                id = c.WatchId;
            }
            else
            {
                while (_watchers.ContainsKey(_nextId))
                {
                    _nextId++;
                }
                id = _nextId++;
            }
        }
        if (id < 0)
        {
            await SendAsync(new WatchResponse
            {
                Header = _member.Header(),
                WatchId = -1, // etcd answers with no watch id: the one asked for belongs to the other watcher
                Created = true,
                Canceled = true,
                CancelReason = "mvcc: duplicate watch ID provided on the WatchStream",
            }).ConfigureAwait(false);
            return;
        }
        var key = c.Key.IsEmpty ? [0] : c.Key.ToByteArray();
        Watcher watcher;
        var store = _member.Loop.Kv;
        var mvccRequest = new MvccWatchRequest
        {
            Key = key,
            RangeEnd = ProtoConvert.RangeEnd(c.RangeEnd),
            StartRevision = c.StartRevision,
            NoPut = c.Filters.Contains(WatchCreateRequest.Types.FilterType.Noput),
            NoDelete = c.Filters.Contains(WatchCreateRequest.Types.FilterType.Nodelete),
            PrevKv = c.PrevKv,
        };
        for (var waits = 0; ; )
        {
            try
            {
                watcher = store.Watch(mvccRequest);
                break;
            }
            catch (ObjectDisposedException) when (waits++ < 3)
            {
                // The store is being replaced by a snapshot from the leader: watch its successor
                // (answering "canceled" here left a client that had just connected with a dead watch).
                try
                {
                    store = await _member.Loop.StoreAfterAsync(store, _stop.Token).ConfigureAwait(false);
                }
                catch (RpcException e)
                {
                    await SendAsync(new WatchResponse { Header = _member.Header(), WatchId = id, Created = true, Canceled = true, CancelReason = e.Status.Detail }).ConfigureAwait(false);
                    return;
                }
            }
            catch (Exception e) when (e is MvccException or ObjectDisposedException)
            {
                await SendAsync(new WatchResponse { Header = _member.Header(), WatchId = id, Created = true, Canceled = true, CancelReason = e.Message }).ConfigureAwait(false);
                return;
            }
        }
        var entry = new Entry(watcher, CancellationTokenSource.CreateLinkedTokenSource(_stop.Token), c.ProgressNotify, c.Fragment)
        {
            Store = store,
            Request = mvccRequest,
            NextRevision = c.StartRevision > 0 ? c.StartRevision : store.CurrentRevision + 1,
        };
        lock (_lock)
        {
            _watchers[id] = entry;
        }
        // "created" goes out before any event of this watcher: both use the same ordered queue.
        await SendAsync(new WatchResponse { Header = _member.Header(), WatchId = id, Created = true }).ConfigureAwait(false);
        entry.Reader = Task.Run(() => PumpAsync(id, entry));
    }

    private async Task PumpAsync(long id, Entry entry)
    {
        try
        {
            while (true)
            {
                MvccWatchResponse? r;
                try
                {
                    r = await entry.Watcher.ReadAsync(entry.Cancel.Token).ConfigureAwait(false);
                }
                catch (ObjectDisposedException)
                {
                    r = null; // the store was closed under the watcher
                }
                if (r is null)
                {
                    if (entry.Cancel.IsCancellationRequested)
                    {
                        return;
                    }
                    if (!await RewatchAsync(entry).ConfigureAwait(false))
                    {
                        // Never a silent end: the client learns the watch is gone and can re-create it.
                        if (!entry.Cancel.IsCancellationRequested)
                        {
                            await SendAsync(new WatchResponse
                            {
                                Header = _member.Header(),
                                WatchId = id,
                                Canceled = true,
                                CancelReason = "mvcc: the watch could not follow the store to the installed snapshot",
                            }).ConfigureAwait(false);
                            Remove(id);
                        }
                        return;
                    }
                    continue;
                }
                entry.NextRevision = Math.Max(entry.NextRevision, r.Revision + 1);
                if (r.Canceled)
                {
                    var header = _member.Header();
                    var reason = r.CancelReason ?? "";
                    if (r.CompactRevision != 0)
                    {
                        // Compacted: etcd's response has neither a revision nor a reason (clients
                        // tell it by the compact revision), and a client that prints the reason
                        // (the npm etcd3 client) shows etcd's empty one.
                        header.Revision = 0;
                        reason = "";
                    }
                    await SendAsync(new WatchResponse
                    {
                        Header = header,
                        WatchId = id,
                        Canceled = true,
                        CompactRevision = r.CompactRevision,
                        CancelReason = reason,
                    }).ConfigureAwait(false);
                    Remove(id);
                    return;
                }
                foreach (var part in Convert(id, r, entry.Fragment))
                {
                    await SendAsync(part).ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>The store was replaced under the watcher (a snapshot from the leader was installed):
    /// watch the new store from the first revision not yet delivered, so the client sees no gap.</summary>
    private async Task<bool> RewatchAsync(Entry entry)
    {
        // The old store closes before the new one is opened: wait (bounded) for the swap. The new
        // store may itself be replaced before we watch it (two snapshots in a row, a lagging member
        // catching up): then it is closed when we get to it, and we wait for its successor.
        for (var waits = 0; waits < 100 && !entry.Cancel.IsCancellationRequested;)
        {
            var store = _member.Loop.Kv;
            if (ReferenceEquals(store, entry.Store))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), _member.Options.TimeProvider, entry.Cancel.Token).ConfigureAwait(false);
                waits++;
                continue;
            }
            try
            {
                entry.Watcher = store.Watch(new MvccWatchRequest
                {
                    Key = entry.Request.Key,
                    RangeEnd = entry.Request.RangeEnd,
                    StartRevision = entry.NextRevision,
                    NoPut = entry.Request.NoPut,
                    NoDelete = entry.Request.NoDelete,
                    PrevKv = entry.Request.PrevKv,
                });
                entry.Store = store;
                return true;
            }
            catch (ObjectDisposedException)
            {
                entry.Store = store;
            }
            catch (MvccException)
            {
                return false;
            }
        }
        return false;
    }

    private IEnumerable<WatchResponse> Convert(long id, MvccWatchResponse r, bool fragment)
    {
        var resp = new WatchResponse { Header = _member.Header(r.Revision), WatchId = id };
        foreach (var e in r.Events)
        {
            resp.Events.Add(ProtoConvert.ToProto(e));
        }
        var limit = _member.Options.MaxRequestBytes;
        if (!fragment || resp.Events.Count <= 1 || resp.CalculateSize() <= limit)
        {
            yield return resp;
            yield break;
        }
        // etcd's fragmentation: parts of one revision, each under the request limit; all but the
        // last carry fragment = true.
        var part = new WatchResponse { Header = resp.Header, WatchId = id, Fragment = true };
        var size = 0;
        foreach (var ev in resp.Events)
        {
            var evSize = ev.CalculateSize();
            if (part.Events.Count > 0 && size + evSize > limit)
            {
                yield return part;
                part = new WatchResponse { Header = resp.Header, WatchId = id, Fragment = true };
                size = 0;
            }
            part.Events.Add(ev);
            size += evSize;
        }
        part.Fragment = false;
        yield return part;
    }

    private async ValueTask CancelAsync(long id)
    {
        if (Remove(id))
        {
            await SendAsync(new WatchResponse { Header = _member.Header(), WatchId = id, Canceled = true }).ConfigureAwait(false);
        }
    }

    private bool Remove(long id)
    {
        Entry? entry;
        lock (_lock)
        {
            if (!_watchers.Remove(id, out entry))
            {
                return false;
            }
        }
        entry.Cancel.Cancel();
        entry.Watcher.Dispose();
        return true;
    }

    private void PeriodicProgress()
    {
        lock (_lock)
        {
            foreach (var e in _watchers.Values)
            {
                if (e.ProgressNotify)
                {
                    e.Watcher.RequestProgress();
                }
            }
        }
    }

    private async ValueTask SendAsync(WatchResponse response)
    {
        try
        {
            await _out.Writer.WriteAsync(response, _stop.Token).ConfigureAwait(false);
        }
        catch (ChannelClosedException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _progressTimer.DisposeAsync().ConfigureAwait(false);
        long[] ids;
        lock (_lock)
        {
            ids = [.. _watchers.Keys];
        }
        foreach (var id in ids)
        {
            Remove(id);
        }
        _out.Writer.TryComplete();
        await _stop.CancelAsync().ConfigureAwait(false);
    }

    private sealed class Entry(Watcher watcher, CancellationTokenSource cancel, bool progressNotify, bool fragment)
    {
        public Watcher Watcher { get; set; } = watcher;

        public required KvStore Store { get; set; }

        public required MvccWatchRequest Request { get; init; }

        /// <summary>The first revision not yet delivered.</summary>
        public long NextRevision { get; set; }

        public CancellationTokenSource Cancel { get; } = cancel;

        public bool ProgressNotify { get; } = progressNotify;

        public bool Fragment { get; } = fragment;

        public Task? Reader { get; set; }
    }
}
