using System.Buffers.Binary;
using System.Text.Json;
using Ketch.Mvcc;
using Ketch.Raft;
using Ketch.Raft.Encoding;
using Ketch.Server.Api;
using Ketch.Server.Apply;
using Microsoft.Extensions.Logging;
using Rpc = Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Member;

internal sealed partial class RaftLoop
{
    /// <summary>
    /// Applies a committed membership change: Raft's configuration always (it is rebuilt from the
    /// log after a restart), the member table only when the entry is past the consistent index.
    /// The entry's context is <c>request id (uint64 LE) | member JSON</c>.
    /// </summary>
    private void ApplyConfChange(Entry entry)
    {
        var cc = RaftEncoding.ReadConfChangeEntry(entry);
        ulong requestId = 0;
        MemberInfo? info = null;
        if (cc.Context.Length >= 8)
        {
            requestId = BinaryPrimitives.ReadUInt64LittleEndian(cc.Context.Span);
            if (cc.Context.Length > 8)
            {
                info = JsonSerializer.Deserialize<MemberInfo>(cc.Context.Span[8..]);
            }
        }
        ApplyResult result;
        try
        {
            var cs = _node.ApplyConfChange(cc);
            var fresh = entry.Index > Kv.ConsistentIndex;
            foreach (var change in cc.Changes)
            {
                switch (change.Type)
                {
                    case ConfChangeType.AddNode:
                    case ConfChangeType.AddLearnerNode:
                        var existing = Membership.Get(change.NodeId);
                        var member = (info ?? existing ?? new MemberInfo(change.NodeId, "", [], [], false))
                            with { IsLearner = change.Type == ConfChangeType.AddLearnerNode };
                        if (existing is not null && info is null)
                        {
                            member = existing with { IsLearner = change.Type == ConfChangeType.AddLearnerNode };
                        }
                        if (fresh)
                        {
                            Membership.Set(Kv, member);
                        }
                        if (change.NodeId != MemberId)
                        {
                            _transport?.AddPeer(change.NodeId, member.PeerUrls);
                        }
                        break;
                    case ConfChangeType.RemoveNode:
                        if (fresh)
                        {
                            Membership.Remove(Kv, change.NodeId);
                        }
                        if (change.NodeId != MemberId)
                        {
                            _transport?.RemovePeer(change.NodeId);
                        }
                        else
                        {
                            ReportRemoved();
                        }
                        break;
                    case ConfChangeType.UpdateNode:
                        if (fresh && info is not null)
                        {
                            var cur = Membership.Get(change.NodeId);
                            Membership.Set(Kv, info with { IsLearner = cur?.IsLearner ?? false, Name = cur?.Name ?? info.Name, ClientUrls = cur?.ClientUrls ?? info.ClientUrls });
                        }
                        if (change.NodeId != MemberId && info is not null)
                        {
                            _transport?.RemovePeer(change.NodeId);
                            _transport?.AddPeer(change.NodeId, info.PeerUrls);
                        }
                        break;
                }
            }
            if (fresh)
            {
                Kv.SetConsistentIndex(entry.Index, entry.Term);
            }
            _confState = cs;
            result = ApplyResult.Ok(MemberList());
        }
        catch (ConfChangeException)
        {
            result = ApplyResult.Fail(EtcdErrors.NotEnoughStarted);
            if (entry.Index > Kv.ConsistentIndex)
            {
                Kv.SetConsistentIndex(entry.Index, entry.Term);
            }
        }
        if (requestId != 0)
        {
            _waiters.Trigger(requestId, result);
        }
    }

    /// <summary>The member list as the Cluster API answers it.</summary>
    public Rpc.MemberListResponse MemberList()
    {
        var resp = new Rpc.MemberListResponse { Header = new Rpc.ResponseHeader() };
        foreach (var m in Membership.Members)
        {
            resp.Members.Add(ToProto(m));
        }
        return resp;
    }

    public static Rpc.Member ToProto(MemberInfo m)
    {
        var pm = new Rpc.Member { ID = m.Id, Name = m.Name, IsLearner = m.IsLearner };
        pm.PeerURLs.AddRange(m.PeerUrls);
        pm.ClientURLs.AddRange(m.ClientUrls);
        return pm;
    }

    private ConfState? _confState;

    private ConfState CurrentConfState => _confState ??= _node.Status().Config;

    /// <summary>
    /// Every <see cref="KetchServerOptions.SnapshotCount"/> applied entries: commit the store, then
    /// record a snapshot at the applied index so the WAL before it (beyond --max-wals) is released
    /// and the cached log compacted. The snapshot file carries no data: the store is the state, and
    /// a follower that needs a snapshot gets the store streamed (see <see cref="SnapshotMessage"/>).
    /// </summary>
    private async Task MaybeSnapshotAsync()
    {
        if (AppliedIndex < _lastSnapshotIndex + (ulong)Math.Max(1, _options.SnapshotCount))
        {
            return;
        }
        // After installing a leader's snapshot the store may be ahead of the log (the store was
        // streamed a moment after the snapshot's index): snapshot no further than the log holds.
        var index = Math.Min(AppliedIndex, _storage.LastIndex());
        if (index <= _lastSnapshotIndex)
        {
            return;
        }
        Kv.Commit();
        var err = await _storage.CreateSnapshotAsync(index, CurrentConfState, ReadOnlyMemory<byte>.Empty, (ulong)Math.Max(0, _options.SnapshotCatchUpEntries)).ConfigureAwait(false);
        if (err == Ketch.Raft.Storage.StorageError.None)
        {
            // The store is committed at or past every received snapshot up to here, and the
            // newest snapshot record no longer refers to one: their files are not needed.
            Peer.SnapshotFile.DeleteUpTo(_options.DataDir, index);
        }
        _lastSnapshotIndex = index;
        LogSnapshot(_log, MemberId, index, err.ToString());
    }

    /// <summary>A leader's snapshot message: metadata at the applied index; the store itself is
    /// streamed after it by the transport (see <see cref="Peer.PeerSender.SendSnapshot"/>).</summary>
    private Message SnapshotMessage(Message m)
    {
        var term = _storage.Term(AppliedIndex);
        var meta = new SnapshotMetadata(AppliedIndex, term.IsOk ? term.Value : Term, CurrentConfState);
        return new Message
        {
            Type = m.Type,
            To = m.To,
            From = m.From,
            Term = m.Term,
            Snapshot = new Snapshot(ReadOnlyMemory<byte>.Empty, meta),
        };
    }

    /// <summary>A snapshot from the leader: replace the store with its data and reload the
    /// members and leases that came with it.</summary>
    private void ApplySnapshot(Snapshot snapshot)
    {
        var file = Peer.SnapshotFile.Resolve(_options.DataDir, snapshot.Data.Span);
        if (file is null || snapshot.Metadata.Index <= Kv.ConsistentIndex)
        {
            AppliedIndex = Math.Max(AppliedIndex, snapshot.Metadata.Index);
            return;
        }
        InstallStore(file);
        _lastSnapshotIndex = Math.Max(_lastSnapshotIndex, snapshot.Metadata.Index);
        _confState = snapshot.Metadata.ConfState;
        AppliedIndex = Math.Max(snapshot.Metadata.Index, Kv.ConsistentIndex);
        StoreReplaced?.Invoke();
    }

    /// <summary>Replaces the store with the snapshot stream in <paramref name="file"/>: restored into
    /// a new directory, then swapped in; members and leases are reloaded from it.</summary>
    private void InstallStore(string file)
    {
        Metrics.SnapshotApplying(true);
        try
        {
            Kv = RestoreStore(_options, file, Kv);
        }
        finally
        {
            Metrics.SnapshotApplying(false);
        }
        Interlocked.Exchange(ref _storeInstalled, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
        Kv.CommitObserver = Metrics.ObserveBackendCommit;
        Kv.CompactionObserver = Metrics.ObserveCompaction;
        _applier.Kv = Kv;
        _applier.LeaseKeys.Rebuild(Kv);
        var clusterId = Membership.ClusterId;
        Membership.Recover(Kv);
        Membership.ClusterId = clusterId;
        Membership.SetLocalAttributes(MemberId, _options.Name, _options.AdvertiseClientUrls);
        Lessor.Recover(Kv);
        Auth.Recover(Kv);
        foreach (var m in Membership.Members.Where(m => m.Id != MemberId))
        {
            _transport?.AddPeer(m.Id, m.PeerUrls);
        }
        Peer.SnapshotFile.DeleteOlder(_options.DataDir, file);
    }

    private static KvStore RestoreStore(KetchServerOptions options, string file, KvStore? current)
    {
        var kvDir = Path.Combine(options.DataDir, "member", "kv");
        var tmp = kvDir + ".restore";
        if (Directory.Exists(tmp))
        {
            Directory.Delete(tmp, recursive: true);
        }
        // The new store counts on where the old one stopped: metrics counters never go back.
        var kvOptions = options.KvStoreOptions(tmp) with { Stats = current?.Stats };
        using (var input = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16))
        {
            var restored = KvStore.Restore(input, kvOptions);
            restored.Commit();
            restored.Dispose();
        }
        current?.Dispose();
        options.WhileStoreClosedForTests?.Invoke();
        Directory.Delete(kvDir, recursive: true);
        Directory.Move(tmp, kvDir);
        return KvStore.Open(kvOptions with { Directory = kvDir });
    }

    /// <summary>At start: a snapshot received and persisted but not installed in the store before a
    /// crash is installed now (its file is kept until a newer one arrives).</summary>
    private static KvStore FinishSnapshotInstall(KetchServerOptions options, Ketch.Wal.WalStorage storage, KvStore kv)
    {
        var snap = storage.Snapshot();
        if (!snap.IsOk || snap.Value.IsEmpty || snap.Value.Metadata.Index <= kv.ConsistentIndex)
        {
            return kv;
        }
        var file = Peer.SnapshotFile.Resolve(options.DataDir, snap.Value.Data.Span);
        return file is not null && File.Exists(file) ? RestoreStore(options, file, kv) : kv;
    }

    /// <summary>Raised (on the loop) after a snapshot from the leader replaced the store.</summary>
    public event Action? StoreReplaced;

    private TaskCompletionSource _storeInstalled = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// The store that replaced <paramref name="replaced"/> (closed when a snapshot from the leader
    /// is installed: <see cref="InstallStore"/> closes the old store before it opens the new one, in
    /// the same directory). Readers that find their store closed read its successor, as etcd's
    /// readers wait on the backend lock while a snapshot replaces the backend.
    /// </summary>
    /// <exception cref="Grpc.Core.RpcException">No new store within the request timeout, or the member stopped.</exception>
    public async Task<KvStore> StoreAfterAsync(KvStore replaced, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct, _stop.Token);
        timeout.CancelAfter(_options.EffectiveRequestTimeout);
        while (true)
        {
            // Read the signal before the store: Kv is assigned before the signal completes.
            var installed = Volatile.Read(ref _storeInstalled).Task;
            if (!ReferenceEquals(Kv, replaced))
            {
                return Kv;
            }
            try
            {
                await installed.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                throw WaitEnded(ct);
            }
        }
    }

    /// <summary>
    /// Completes when this member learns that it was removed from the cluster: it applied its own
    /// removal, a peer refused it as removed (it was removed while down), or it restarted on the data
    /// of a removed member. A removed member gets no more entries, so it could only answer with stale
    /// data or time out; etcd stops it, and the ketch host does too.
    /// </summary>
    public Task Removed => _removed.Task;

    /// <summary>This member was removed from the cluster (see <see cref="Removed"/>).</summary>
    public void ReportRemoved()
    {
        if (_removed.TrySetResult())
        {
            LogRemoved(_log, MemberId);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "member {MemberId:x16} was removed from the cluster")]
    private static partial void LogRemoved(ILogger log, ulong memberId);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {MemberId:x16}: snapshot at index {Index} ({Result})")]
    private static partial void LogSnapshot(ILogger log, ulong memberId, ulong index, string result);
}
