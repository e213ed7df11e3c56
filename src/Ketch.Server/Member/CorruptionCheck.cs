using Ketch.Api.Etcdserverpb;
using Ketch.Mvcc;
using Ketch.Server.Apply;
using Ketch.Server.Peer;
using Ketch.Server.Snapshots;
using Microsoft.Extensions.Logging;

namespace Ketch.Server.Member;

/// <summary>
/// etcd's data corruption checks: members that applied the same log must hold the same store, so
/// their HashKV at a revision both have, with the same compaction, must agree.
/// <list type="bullet">
/// <item><b>Before serving</b> (<c>--experimental-initial-corrupt-check</c>): a starting member
/// compares its hash at its own revision with every reachable peer's and refuses to start on a
/// mismatch. Peers that have not reached that revision, have compacted it, or cannot be reached
/// are skipped with a warning, as etcd does (a whole cluster restarting at once skips them all).</item>
/// <item><b>Periodically</b> (<c>--experimental-corrupt-check-time</c>): the leader compares its hash
/// at its current revision with its peers' and raises the CORRUPT alarm (which refuses writes, see
/// <see cref="Applier"/>) for each member outside the largest group of agreeing members; on a tie,
/// for those that differ from the leader, as etcd blames the follower. The leader also hashes that
/// revision again after asking the peers: if its own hash changed meanwhile, its store is the one
/// that is damaged.</item>
/// </list>
/// Hashes travel over the peer port (<see cref="PeerHashQuery"/>).
/// </summary>
internal sealed partial class CorruptionCheck(RaftLoop loop, KetchServerOptions options, Tls.TlsCredentials? peerTls, ILogger log)
{
    /// <summary>The check before serving.</summary>
    /// <exception cref="InvalidOperationException">A peer holds other data at the same revision
    /// (etcd's <c>found data inconsistency with peers</c>).</exception>
    public async Task CheckBeforeServingAsync(CancellationToken ct)
    {
        var (hash, revision, compacted) = EtcdHashKV.Compute(loop.Kv, 0);
        var mismatch = false;
        foreach (var (peer, answer) in await AskPeersAsync(revision, ct).ConfigureAwait(false))
        {
            if (answer is not { Result: PeerHashResult.Ok } a || a.CompactRevision != compacted)
            {
                continue;
            }
            if (a.Hash != hash)
            {
                LogMismatch(log, loop.MemberId, hash, peer.Id, a.Hash, revision, compacted);
                mismatch = true;
            }
        }
        if (mismatch)
        {
            throw new InvalidOperationException($"{loop.MemberId:x} found data inconsistency with peers");
        }
        LogInitialPassed(log, loop.MemberId, revision);
    }

    /// <summary>Runs the periodic check every <see cref="KetchServerOptions.CorruptCheckInterval"/>
    /// while this member leads, until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.CorruptCheckInterval, options.TimeProvider, ct).ConfigureAwait(false);
                if (loop.IsLeader)
                {
                    await CheckOnceAsync(ct).ConfigureAwait(false);
                }
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                // A failed pass (no quorum for the alarm, a store closing) is retried at the next one.
                LogCheckFailed(log, e.Message);
            }
        }
    }

    /// <summary>One pass of the leader's check: the members it raised the CORRUPT alarm for.</summary>
    public async Task<IReadOnlyList<ulong>> CheckOnceAsync(CancellationToken ct)
    {
        var (hash, revision, compacted) = EtcdHashKV.Compute(loop.Kv, 0);
        var hashes = new Dictionary<ulong, uint> { [loop.MemberId] = hash };
        foreach (var (peer, answer) in await AskPeersAsync(revision, ct).ConfigureAwait(false))
        {
            if (answer is { Result: PeerHashResult.Ok } a && a.CompactRevision == compacted)
            {
                hashes[peer.Id] = a.Hash;
            }
        }
        var corrupt = new List<ulong>();
        uint again;
        try
        {
            (again, _, _) = EtcdHashKV.Compute(loop.Kv, revision);
        }
        catch (MvccException)
        {
            return corrupt; // compacted meanwhile: the hashes are not comparable
        }
        if (again != hash && loop.Kv.CompactRevision == compacted)
        {
            LogMismatch(log, loop.MemberId, hash, loop.MemberId, again, revision, compacted);
            corrupt.Add(loop.MemberId);
        }
        else if (hashes.Values.Distinct().Count() > 1)
        {
            var groups = hashes.GroupBy(h => h.Value).OrderByDescending(g => g.Count()).ToList();
            var right = groups[0].Count() > groups[1].Count() ? groups[0].Key : hash;
            foreach (var (id, h) in hashes.Where(h => h.Value != right))
            {
                LogMismatch(log, loop.MemberId, right, id, h, revision, compacted);
                corrupt.Add(id);
            }
        }
        foreach (var id in corrupt)
        {
            await loop.ProposeAsync(RaftRequestKind.Alarm, new AlarmRequest
            {
                Action = AlarmRequest.Types.AlarmAction.Activate,
                MemberID = id,
                Alarm = AlarmType.Corrupt,
            }, ct).ConfigureAwait(false);
        }
        return corrupt;
    }

    /// <summary>Every other member's answer at <paramref name="revision"/>, null where it could not be asked.</summary>
    private async Task<List<(MemberInfo Peer, PeerHash? Answer)>> AskPeersAsync(long revision, CancellationToken ct)
    {
        var peers = loop.Membership.Members.Where(m => m.Id != loop.MemberId && m.PeerUrls.Count > 0).ToList();
        var answers = await Task.WhenAll(peers.Select(async p =>
        {
            try
            {
                var answer = await PeerHashQuery.FetchAsync(p.PeerUrls, loop.ClusterId, loop.MemberId, p.Id, revision, peerTls,
                    options.PeerSetupTimeout, ct).ConfigureAwait(false);
                if (answer.Result != PeerHashResult.Ok)
                {
                    LogPeerSkipped(log, p.Id, revision, answer.Result == PeerHashResult.FutureRevision ? "it has not reached it yet" : "it compacted it");
                }
                return (p, (PeerHash?)answer);
            }
            catch (IOException e)
            {
                LogPeerUnreachable(log, p.Id, e.Message);
                return (p, (PeerHash?)null);
            }
        })).ConfigureAwait(false);
        return [.. answers];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "data inconsistency: member {Local:x} has hash {LocalHash} at revision {Revision} (compacted {Compacted}), member {Peer:x} has {PeerHash}")]
    private static partial void LogMismatch(ILogger log, ulong local, uint localHash, ulong peer, uint peerHash, long revision, long compacted);

    [LoggerMessage(Level = LogLevel.Information, Message = "member {Local:x} passed the initial corruption check at revision {Revision}")]
    private static partial void LogInitialPassed(ILogger log, ulong local, long revision);

    [LoggerMessage(Level = LogLevel.Warning, Message = "corruption check: member {Peer:x} skipped at revision {Revision}: {Reason}")]
    private static partial void LogPeerSkipped(ILogger log, ulong peer, long revision, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "corruption check: cannot fetch the hash of member {Peer:x}: {Error}")]
    private static partial void LogPeerUnreachable(ILogger log, ulong peer, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "corruption check failed: {Error}")]
    private static partial void LogCheckFailed(ILogger log, string error);
}
