using Google.Protobuf;
using Ketch.Mvcc;
using Ketch.Raft;
using Ketch.Server.Api;
using Ketch.Server.Auth;
using Ketch.Server.Lease;
using Ketch.Server.Member;
using Rpc = Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Apply;

/// <summary>
/// Applies committed normal entries to the MVCC store, the lessor and the alarms, on the Raft
/// loop's thread, in log order. Each entry's consistent index goes into the same store batch as
/// its effects, so a restart skips exactly what was applied. Refusals (unknown lease, NOSPACE, CORRUPT,
/// compacted revision...) are results, not exceptions: every member reaches the same verdict.
/// </summary>
internal sealed class Applier(KvStore kv, Lessor lessor, Membership membership)
{
    /// <summary>The store applied to; replaced when a snapshot from the leader is installed.</summary>
    public KvStore Kv { get; set; } = kv;

    /// <summary>Which keys each lease holds; rebuild it with <see cref="LeaseKeyIndex.Rebuild"/>
    /// whenever <see cref="Kv"/> is opened or replaced.</summary>
    public LeaseKeyIndex LeaseKeys { get; } = new();

    /// <summary>Users, roles and the enabled flag; reload it with <see cref="AuthStore.Recover"/>
    /// whenever <see cref="Kv"/> is opened or replaced.</summary>
    public required AuthStore Auth { get; init; }

    // The lease-keys lookup handed to every entry's auth check, made once (not a delegate per entry).
    private Func<long, List<byte[]>>? _attachedKeys;


    public ApplyResult? Apply(Entry entry, RaftRequest request)
    {
        ApplyResult result;
        try
        {
            // A client request is checked again here, against the auth state of this point of the
            // log (etcd's authApplierV3): what was allowed when it arrived may not be any more.
            if (request.Auth is { } sender && Auth.CheckEntry(sender, request.Kind, request.Payload.Span, _attachedKeys ??= LeaseKeys.Keys) is { } denied)
            {
                Kv.SetConsistentIndex(entry.Index, entry.Term);
                return ApplyResult.Fail(denied);
            }
            // etcd's applierV3Corrupt: while a CORRUPT alarm is raised no write applies, before any
            // NOSPACE verdict (reads are served outside the applier and keep working).
            if (IsWrite(request.Kind) && membership.HasAlarm(Rpc.AlarmType.Corrupt))
            {
                Kv.SetConsistentIndex(entry.Index, entry.Term);
                return ApplyResult.Fail(EtcdErrors.Corrupt);
            }
            result = request.Kind switch
            {
                RaftRequestKind.Put => Put(Rpc.PutRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.DeleteRange => Delete(Rpc.DeleteRangeRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.Txn => Txn(Rpc.TxnRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.Compaction => Compact(Rpc.CompactionRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.LeaseGrant => Grant(Rpc.LeaseGrantRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.LeaseRevoke => Revoke(Rpc.LeaseRevokeRequest.Parser.ParseFrom(request.Payload.Span).ID),
                RaftRequestKind.LeaseCheckpoint => Checkpoint(Rpc.LeaseCheckpointRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.Alarm => Alarm(Rpc.AlarmRequest.Parser.ParseFrom(request.Payload.Span)),
                RaftRequestKind.MemberAttributes => Attributes(Rpc.Member.Parser.ParseFrom(request.Payload.Span)),
                var kind when AuthStore.Handles(kind) => Auth.Apply(Kv, entry, request),
                _ => ApplyResult.Fail(EtcdErrors.NotCapable),
            };
        }
        catch (MvccException e)
        {
            result = ApplyResult.Fail(EtcdErrors.From(e));
        }
        catch (InvalidProtocolBufferException)
        {
            result = ApplyResult.Fail(EtcdErrors.NotCapable);
        }
        Kv.SetConsistentIndex(entry.Index, entry.Term);
        return result;
    }

    private static bool IsWrite(RaftRequestKind kind) => kind is RaftRequestKind.Put or RaftRequestKind.DeleteRange
        or RaftRequestKind.Txn or RaftRequestKind.Compaction or RaftRequestKind.LeaseGrant or RaftRequestKind.LeaseRevoke;

    private ApplyResult Put(Rpc.PutRequest r)
    {
        if (membership.HasAlarm(Rpc.AlarmType.Nospace))
        {
            return ApplyResult.Fail(EtcdErrors.NoSpace);
        }
        if (r.Lease != 0 && !lessor.Exists(r.Lease))
        {
            return ApplyResult.Fail(EtcdErrors.LeaseNotFound);
        }
        var put = ProtoConvert.ToMvcc(r);
        var resp = Kv.Put(put);
        if (!r.IgnoreLease)
        {
            LeaseKeys.Attach(put.Key, r.Lease);
        }
        return ApplyResult.Ok(ProtoConvert.ToProto(resp));
    }

    private ApplyResult Delete(Rpc.DeleteRangeRequest r)
    {
        // The deleted keys leave their leases: ask the store for them even when the client did not.
        var resp = Kv.DeleteRange(ProtoConvert.ToMvcc(r, forcePrevKv: true));
        foreach (var prev in resp.PrevKvs)
        {
            LeaseKeys.Detach(prev.Key);
        }
        var proto = ProtoConvert.ToProto(resp);
        if (!r.PrevKv)
        {
            proto.PrevKvs.Clear();
        }
        return ApplyResult.Ok(proto);
    }

    /// <summary>Follows a transaction's executed branch to keep <see cref="LeaseKeys"/> current.</summary>
    private void TrackLeases(Rpc.TxnRequest r, TxnResponse resp)
    {
        var ops = resp.Succeeded ? r.Success : r.Failure;
        for (var i = 0; i < ops.Count && i < resp.Responses.Count; i++)
        {
            var op = ops[i];
            switch (op.RequestCase)
            {
                case Rpc.RequestOp.RequestOneofCase.RequestPut when !op.RequestPut.IgnoreLease:
                    LeaseKeys.Attach(op.RequestPut.Key.ToByteArray(), op.RequestPut.Lease);
                    break;
                case Rpc.RequestOp.RequestOneofCase.RequestDeleteRange when resp.Responses[i].DeleteRange is { } del:
                    foreach (var prev in del.PrevKvs)
                    {
                        LeaseKeys.Detach(prev.Key);
                    }
                    break;
                case Rpc.RequestOp.RequestOneofCase.RequestTxn when resp.Responses[i].Txn is { } nested:
                    TrackLeases(op.RequestTxn, nested);
                    break;
            }
        }
    }

    private ApplyResult Txn(Rpc.TxnRequest r)
    {
        if (HasPut(r) && membership.HasAlarm(Rpc.AlarmType.Nospace))
        {
            return ApplyResult.Fail(EtcdErrors.NoSpace);
        }
        // Leases are checked for the puts of the branches that run, as etcd's checkRequests.
        var resp = Kv.Txn(ProtoConvert.ToMvcc(r, forcePrevKv: true), lessor.Exists);
        TrackLeases(r, resp);
        var proto = ProtoConvert.ToProto(resp);
        ProtoConvert.StripPrevKvs(r, proto);
        return ApplyResult.Ok(proto);
    }

    private ApplyResult Compact(Rpc.CompactionRequest r)
    {
        Kv.Compact(r.Revision);
        return ApplyResult.Ok(new Rpc.CompactionResponse { Header = new Rpc.ResponseHeader { Revision = Kv.CurrentRevision } });
    }

    private ApplyResult Grant(Rpc.LeaseGrantRequest r)
    {
        if (membership.HasAlarm(Rpc.AlarmType.Nospace))
        {
            return ApplyResult.Fail(EtcdErrors.NoSpace);
        }
        var ttl = lessor.Grant(Kv, r.ID, r.TTL);
        return ttl is null
            ? ApplyResult.Fail(EtcdErrors.LeaseExists)
            : ApplyResult.Ok(new Rpc.LeaseGrantResponse { ID = r.ID, TTL = ttl.Value, Header = new Rpc.ResponseHeader { Revision = Kv.CurrentRevision } });
    }

    private ApplyResult Revoke(long id)
    {
        if (!lessor.Exists(id))
        {
            return ApplyResult.Fail(EtcdErrors.LeaseNotFound);
        }
        var keys = LeaseKeys.Keys(id);
        if (keys.Count > 0)
        {
            // One transaction: the revocation takes one revision however many keys it deletes.
            Kv.Txn(new TxnRequest
            {
                Success = [.. keys.Select(k => new RequestOp { DeleteRange = new DeleteRangeRequest { Key = k } })],
            });
            foreach (var k in keys)
            {
                LeaseKeys.Detach(k);
            }
        }
        lessor.Remove(Kv, id);
        return ApplyResult.Ok(new Rpc.LeaseRevokeResponse { Header = new Rpc.ResponseHeader { Revision = Kv.CurrentRevision } });
    }

    private ApplyResult Checkpoint(Rpc.LeaseCheckpointRequest r)
    {
        foreach (var c in r.Checkpoints)
        {
            lessor.Checkpoint(Kv, c.ID, c.RemainingTTL);
        }
        return ApplyResult.Ok(new Rpc.LeaseCheckpointResponse { Header = new Rpc.ResponseHeader { Revision = Kv.CurrentRevision } });
    }

    private ApplyResult Alarm(Rpc.AlarmRequest r)
    {
        var resp = new Rpc.AlarmResponse { Header = new Rpc.ResponseHeader { Revision = Kv.CurrentRevision } };
        switch (r.Action)
        {
            case Rpc.AlarmRequest.Types.AlarmAction.Activate:
                if (r.Alarm != Rpc.AlarmType.None)
                {
                    membership.Activate(Kv, r.MemberID, r.Alarm);
                    resp.Alarms.Add(new Rpc.AlarmMember { MemberID = r.MemberID, Alarm = r.Alarm });
                }
                break;
            case Rpc.AlarmRequest.Types.AlarmAction.Deactivate:
                resp.Alarms.AddRange(membership.Alarms.Where(a => (r.MemberID == 0 || a.MemberID == r.MemberID) && (r.Alarm == Rpc.AlarmType.None || a.Alarm == r.Alarm)));
                membership.Deactivate(Kv, r.MemberID, r.Alarm);
                break;
            default:
                resp.Alarms.AddRange(membership.Alarms);
                break;
        }
        return ApplyResult.Ok(resp);
    }

    private ApplyResult Attributes(Rpc.Member m)
    {
        if (membership.Get(m.ID) is { } cur)
        {
            membership.Set(Kv, cur with { Name = m.Name, ClientUrls = [.. m.ClientURLs] });
        }
        return ApplyResult.Ok(new Rpc.MemberListResponse { Header = new Rpc.ResponseHeader() });
    }

    /// <summary>The keys whose current version is attached to <paramref name="leaseId"/>.</summary>
    public List<byte[]> AttachedKeys(long leaseId) => LeaseKeys.Keys(leaseId);

    public static bool HasPut(Rpc.TxnRequest r) =>
        r.Success.Concat(r.Failure).Any(op => op.RequestCase == Rpc.RequestOp.RequestOneofCase.RequestPut
            || (op.RequestCase == Rpc.RequestOp.RequestOneofCase.RequestTxn && HasPut(op.RequestTxn)));
}
