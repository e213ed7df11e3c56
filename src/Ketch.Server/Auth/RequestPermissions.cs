using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using PermType = Ketch.Api.Authpb.Permission.Types.Type;

namespace Ketch.Server.Auth;

/// <summary>
/// The permissions a KV write or lease revocation needs (etcd's <c>checkPut</c>,
/// <c>checkDeleteRange</c>, <c>checkTxn</c> and <c>checkLeasePuts</c>), asked both when the request
/// arrives (<see cref="AuthInterceptor"/>) and when the entry is applied (<see cref="AuthStore.CheckEntry"/>).
/// </summary>
/// <param name="store">The auth state asked.</param>
/// <param name="attachedKeys">The keys currently attached to a lease.</param>
internal sealed class RequestPermissions(AuthStore store, Func<long, List<byte[]>> attachedKeys)
{
    public RpcException? CheckPut(AuthInfo? caller, PutRequest r) =>
        store.CheckRange(caller, r.Key.Span, default, PermType.Write)
        ?? (r.Lease != 0 ? CheckLeasePuts(caller, r.Lease) : null)
        ?? (r.PrevKv ? store.CheckRange(caller, r.Key.Span, default, PermType.Read) : null);

    public RpcException? CheckDelete(AuthInfo? caller, DeleteRangeRequest r) =>
        store.CheckRange(caller, r.Key.Span, r.RangeEnd.Span, PermType.Write)
        ?? (r.PrevKv ? store.CheckRange(caller, r.Key.Span, r.RangeEnd.Span, PermType.Read) : null);

    /// <summary>Every compare needs read permission and every op its own, in both branches and in
    /// nested transactions.</summary>
    public RpcException? CheckTxn(AuthInfo? caller, TxnRequest r)
    {
        foreach (var c in r.Compare)
        {
            if (store.CheckRange(caller, c.Key.Span, c.RangeEnd.Span, PermType.Read) is { } e)
            {
                return e;
            }
        }
        foreach (var op in r.Success.Concat(r.Failure))
        {
            var e = op.RequestCase switch
            {
                RequestOp.RequestOneofCase.RequestRange => store.CheckRange(caller, op.RequestRange.Key.Span, Apply.ProtoConvert.RangeEndOf(op.RequestRange).Span, PermType.Read),
                RequestOp.RequestOneofCase.RequestPut => CheckPut(caller, op.RequestPut),
                RequestOp.RequestOneofCase.RequestDeleteRange => CheckDelete(caller, op.RequestDeleteRange),
                RequestOp.RequestOneofCase.RequestTxn => CheckTxn(caller, op.RequestTxn),
                _ => null,
            };
            if (e is not null)
            {
                return e;
            }
        }
        return null;
    }

    /// <summary>etcd's <c>checkLeasePuts</c>: revoking a lease (or attaching a key to it) deletes
    /// its keys, so the caller needs write permission on each of them.</summary>
    public RpcException? CheckLeasePuts(AuthInfo? caller, long lease)
    {
        foreach (var key in attachedKeys(lease))
        {
            if (store.CheckRange(caller, key, default, PermType.Write) is { } e)
            {
                return e;
            }
        }
        return null;
    }

    /// <summary>The check of a committed entry of <paramref name="kind"/> (its payload parsed here):
    /// KV writes and lease revocations as above, auth management needs the root role (etcd's
    /// <c>needAdminPermission</c>); other kinds are not checked. Null: allowed.</summary>
    public RpcException? CheckEntry(RaftRequestKind kind, ReadOnlySpan<byte> payload, AuthInfo? caller) => kind switch
    {
        RaftRequestKind.Put => CheckPut(caller, PutRequest.Parser.ParseFrom(payload)),
        RaftRequestKind.DeleteRange => CheckDelete(caller, DeleteRangeRequest.Parser.ParseFrom(payload)),
        RaftRequestKind.Txn => CheckTxn(caller, TxnRequest.Parser.ParseFrom(payload)),
        RaftRequestKind.LeaseRevoke => CheckLeasePuts(caller, LeaseRevokeRequest.Parser.ParseFrom(payload).ID),
        RaftRequestKind.Authenticate => null,
        // A client's alarm change (the member's own NOSPACE alarm carries no sender and is not checked).
        RaftRequestKind.Alarm when AlarmRequest.Parser.ParseFrom(payload).Action != AlarmRequest.Types.AlarmAction.Get => store.CheckAdmin(caller),
        _ when AuthStore.Handles(kind) => store.CheckAdmin(caller),
        _ => null,
    };
}
