using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using Ketch.Server.Http;
using Ketch.Server.Snapshots;
using MvccRange = Ketch.Mvcc.RangeRequest;

namespace Ketch.Server.Api;

/// <summary>etcd's Maintenance service: status, alarms, hashes, the snapshot stream, defragment
/// (accepted: RocksDB reclaims space online) and leadership transfer.</summary>
internal sealed class MaintenanceService(MemberContext member) : Maintenance.MaintenanceBase
{
    private const int SnapshotChunkBytes = 32 * 1024;

    public override Task<StatusResponse> Status(StatusRequest request, ServerCallContext context)
    {
        var loop = member.Loop;
        var resp = new StatusResponse
        {
            Header = member.Header(),
            Version = EtcdVersion.Server,
            DbSize = loop.Kv.DbSizeBytes,
            DbSizeInUse = loop.Kv.DbSizeInUseBytes,
            Leader = loop.Leader,
            RaftIndex = loop.CommitIndex,
            RaftTerm = loop.Term,
            RaftAppliedIndex = loop.AppliedIndex,
            IsLearner = loop.Membership.Get(loop.MemberId)?.IsLearner ?? false,
        };
        // As etcd: no leader first, then the alarms.
        if (resp.Leader == 0)
        {
            resp.Errors.Add(EtcdErrors.NoLeader.Status.Detail);
        }
        foreach (var a in loop.Membership.Alarms)
        {
            resp.Errors.Add($"memberID:{a.MemberID} alarm:{a.Alarm.ToString().ToUpperInvariant()} ");
        }
        return Task.FromResult(resp);
    }

    public override async Task<AlarmResponse> Alarm(AlarmRequest request, ServerCallContext context)
    {
        if (request.Action == AlarmRequest.Types.AlarmAction.Get)
        {
            var resp = new AlarmResponse { Header = member.Header() };
            resp.Alarms.AddRange(member.Loop.Membership.Alarms.Where(a =>
                (request.MemberID == 0 || a.MemberID == request.MemberID) && (request.Alarm == AlarmType.None || a.Alarm == request.Alarm)));
            return resp;
        }
        var applied = await member.ProposeAsync<AlarmResponse>(RaftRequestKind.Alarm, request, context.CancellationToken).ConfigureAwait(false);
        member.FillHeader(applied.Header);
        return applied;
    }

    /// <summary>Rewrites the store to its live data (<see cref="Ketch.Mvcc.KvStore.Defragment"/>), off the
    /// request thread; the member keeps serving meanwhile.</summary>
    public override async Task<DefragmentResponse> Defragment(DefragmentRequest request, ServerCallContext context)
    {
        var kv = member.Loop.Kv;
        var metrics = member.Metrics;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        metrics.Defragmenting(true);
        try
        {
            await Task.Run(kv.Defragment, context.CancellationToken).ConfigureAwait(false);
            metrics.ObserveDefrag(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
        catch (ObjectDisposedException)
        {
            // A snapshot from the leader replaced the store meanwhile: the new one is freshly written.
        }
        finally
        {
            metrics.Defragmenting(false);
        }
        return new DefragmentResponse { Header = member.Header() };
    }

    public override Task<HashResponse> Hash(HashRequest request, ServerCallContext context)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var (hash, rev) = HashAt(0);
        member.Metrics.ObserveHash(System.Diagnostics.Stopwatch.GetElapsedTime(started), byRevision: false);
        return Task.FromResult(new HashResponse { Header = member.Header(rev), Hash = hash });
    }

    /// <summary>etcd's HashKV, equal to what an etcd member with the same history answers
    /// (<see cref="EtcdHashKV"/>); the header carries the current revision, as etcd's.</summary>
    public override Task<HashKVResponse> HashKV(HashKVRequest request, ServerCallContext context)
    {
        try
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var (hash, current, compacted) = EtcdHashKV.Compute(member.Loop.Kv, request.Revision);
            member.Metrics.ObserveHash(System.Diagnostics.Stopwatch.GetElapsedTime(started), byRevision: true);
            return Task.FromResult(new HashKVResponse { Header = member.Header(current), Hash = hash, CompactRevision = compacted });
        }
        catch (Ketch.Mvcc.MvccException e)
        {
            throw EtcdErrors.From(e);
        }
    }

    /// <summary>CRC-32C over every key-value live at <paramref name="revision"/> (0: current), in
    /// key order with its revisions: equal on members that applied the same history.</summary>
    private (uint Hash, long Revision) HashAt(long revision)
    {
        var kv = member.Loop.Kv;
        var all = kv.Range(new MvccRange { Key = [0], RangeEnd = [0], Revision = revision });
        // Seeded with the bucket name, as etcd's HashKV writes "key" first: like etcd's, an empty
        // store's hash is not 0 (the client tests, run against both, check that).
        var crc = Crc32Castagnoli.Append(0u, "key"u8);
        Span<byte> num = stackalloc byte[8];
        foreach (var x in all.Kvs)
        {
            crc = Crc32Castagnoli.Append(crc, x.Key);
            crc = Crc32Castagnoli.Append(crc, x.Value);
            foreach (var n in new[] { x.CreateRevision, x.ModRevision, x.Version, x.Lease })
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(num, n);
                crc = Crc32Castagnoli.Append(crc, num);
            }
        }
        return (crc, revision > 0 ? revision : all.Revision);
    }

    /// <summary>
    /// etcd's snapshot stream: the backend as etcd 3.4 keeps it (a bbolt database, written by
    /// <see cref="EtcdSnapshotWriter"/> to a temporary file first: bbolt's meta pages, written last,
    /// come first), in chunks whose <c>remaining_bytes</c> count down to 0, then one more message
    /// with the SHA-256 of the database, as etcd's v3rpc maintenance server sends it. etcdctl
    /// appends that hash to the file and checks it on restore; the database is a whole number of
    /// 4 KiB pages, so the file's length is 32 more than a multiple of 512.
    /// </summary>
    public override async Task Snapshot(SnapshotRequest request, IServerStreamWriter<SnapshotResponse> responseStream, ServerCallContext context)
    {
        var tmp = Path.Combine(member.Options.DataDir, $"snapshot-{Guid.NewGuid():N}.tmp");
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            var header = member.Header();
            await using (var file = new FileStream(tmp, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 1 << 16, FileOptions.None))
            {
                EtcdSnapshotWriter.Write(member.Loop.Kv, file);
            }
            await using var input = new FileStream(tmp, FileMode.Open, FileAccess.Read, FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
            using var sha = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
            var remaining = input.Length;
            var buffer = new byte[SnapshotChunkBytes];
            while (remaining > 0)
            {
                var n = await input.ReadAtLeastAsync(buffer, (int)Math.Min(buffer.Length, remaining), throwOnEndOfStream: true, context.CancellationToken).ConfigureAwait(false);
                remaining -= n;
                sha.AppendData(buffer, 0, n);
                await responseStream.WriteAsync(new SnapshotResponse
                {
                    Header = header,
                    RemainingBytes = (ulong)remaining,
                    Blob = ByteString.CopyFrom(buffer, 0, n),
                }, context.CancellationToken).ConfigureAwait(false);
            }
            await responseStream.WriteAsync(new SnapshotResponse
            {
                Header = header,
                Blob = ByteString.CopyFrom(sha.GetHashAndReset()),
            }, context.CancellationToken).ConfigureAwait(false);
            member.Metrics.ObserveBackendSnapshot(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        }
        finally
        {
            if (File.Exists(tmp))
            {
                File.Delete(tmp);
            }
        }
    }

    public override async Task<MoveLeaderResponse> MoveLeader(MoveLeaderRequest request, ServerCallContext context)
    {
        var loop = member.Loop;
        if (!loop.IsLeader)
        {
            throw EtcdErrors.NotLeader;
        }
        var target = loop.Membership.Get(request.TargetID);
        if (target is null || target.IsLearner)
        {
            throw EtcdErrors.BadLeaderTransferee;
        }
        if (request.TargetID != loop.MemberId)
        {
            await loop.TransferLeadershipAsync(request.TargetID, context.CancellationToken).ConfigureAwait(false);
            var deadline = member.Options.TimeProvider.GetUtcNow() + member.Options.EffectiveRequestTimeout;
            while (loop.Leader != request.TargetID)
            {
                if (member.Options.TimeProvider.GetUtcNow() > deadline)
                {
                    throw EtcdErrors.Timeout;
                }
                await Task.Delay(TimeSpan.FromMilliseconds(20), member.Options.TimeProvider, context.CancellationToken).ConfigureAwait(false);
            }
        }
        return new MoveLeaderResponse { Header = member.Header() };
    }

    public override Task<DowngradeResponse> Downgrade(DowngradeRequest request, ServerCallContext context) =>
        throw EtcdErrors.NotCapable;
}
