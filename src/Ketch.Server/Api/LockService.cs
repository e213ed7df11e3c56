using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.V3lockpb;
using Ketch.Server.Concurrency;

namespace Ketch.Server.Api;

/// <summary>
/// etcd's v3lock service, run as etcd runs it: the client mutex recipe inside the server. Each
/// contender writes <c>name/leaseid</c> under its lease; the key with the lowest create revision
/// holds the lock and the others wait for every older key to be deleted (unlock, or the lease
/// expiring or being revoked). The returned key is the ownership key: it exists while the lock
/// is held, and <c>Unlock</c> deletes it.
/// </summary>
internal sealed class LockService(MemberContext member) : Ketch.Api.V3lockpb.Lock.LockBase
{
    public override async Task<LockResponse> Lock(LockRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var lease = await RecipeKv.SessionLeaseAsync(member, request.Lease, ct).ConfigureAwait(false);
        var prefix = RecipeKv.Prefix(request.Name);
        var key = RecipeKv.WaiterKey(prefix, lease);
        // One round trip when uncontended: register (or find our earlier registration with the
        // same lease) and read the current holder in the same txn.
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKv.CreateRevisionIs(key, 0));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Lease = lease } });
        txn.Success.Add(new RequestOp { RequestRange = RecipeKv.FirstCreate(prefix) });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        txn.Failure.Add(new RequestOp { RequestRange = RecipeKv.FirstCreate(prefix) });
        var resp = await RecipeKv.TxnAsync(member, txn, ct).ConfigureAwait(false);
        var myRevision = resp.Succeeded ? resp.Header.Revision : resp.Responses[0].ResponseRange.Kvs[0].CreateRevision;
        var owner = resp.Responses[1].ResponseRange.Kvs;
        if (owner.Count == 0 || owner[0].CreateRevision == myRevision)
        {
            return new LockResponse { Header = resp.Header, Key = key };
        }
        RangeResponse mine;
        try
        {
            await RecipeKv.WaitDeletesAsync(member, prefix, myRevision - 1, ct).ConfigureAwait(false);
            // Our lease may have expired while we waited: the key must still be there.
            mine = await RecipeKv.RangeAsync(member, new RangeRequest { Key = key }, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is OperationCanceledException or RpcException)
        {
            // Give up the place in the queue, or it would take the lock with nobody holding it.
            await RecipeKv.DeleteAsync(member, key, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        if (mine.Kvs.Count == 0)
        {
            throw RecipeErrors.SessionExpired;
        }
        return new LockResponse { Header = mine.Header, Key = key };
    }

    public override async Task<UnlockResponse> Unlock(UnlockRequest request, ServerCallContext context)
    {
        var resp = await RecipeKv.DeleteAsync(member, request.Key, context.CancellationToken).ConfigureAwait(false);
        return new UnlockResponse { Header = resp.Header };
    }
}
