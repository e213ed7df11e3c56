using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Api.V3electionpb;
using WatchEventType = Ketch.Mvcc.WatchEventType;
using Ketch.Server.Apply;
using Ketch.Server.Concurrency;

namespace Ketch.Server.Api;

/// <summary>
/// etcd's v3election service, run as etcd runs it: the client election recipe inside the server.
/// A campaigner writes <c>name/leaseid</c> under its lease (in a txn, only if absent); the key
/// with the lowest create revision leads; the others wait for every older key to be deleted
/// (resign, or the lease expiring). The leader's <see cref="LeaderKey"/> (key + create revision)
/// guards proclaim and resign, so a deposed leader cannot act.
/// </summary>
internal sealed class ElectionService(MemberContext member) : Election.ElectionBase
{
    public override async Task<CampaignResponse> Campaign(CampaignRequest request, ServerCallContext context)
    {
        var ct = context.CancellationToken;
        var lease = await RecipeKv.SessionLeaseAsync(member, request.Lease, ct).ConfigureAwait(false);
        var prefix = RecipeKv.Prefix(request.Name);
        var key = RecipeKv.WaiterKey(prefix, lease);
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKv.CreateRevisionIs(key, 0));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = key, Value = request.Value, Lease = lease } });
        txn.Failure.Add(new RequestOp { RequestRange = new RangeRequest { Key = key } });
        // The put is not cancelled with the call: a proposal once made may still be applied, and
        // only its response tells whether this campaign created the key and at which create
        // revision, which a withdrawal needs to delete that key and no other. The wait is bounded
        // by the request timeout; a cancellation meanwhile is acted on just after.
        var resp = await RecipeKv.TxnAsync(member, txn, CancellationToken.None).ConfigureAwait(false);
        var leader = new LeaderKey { Name = request.Name, Key = key, Rev = resp.Header.Revision, Lease = lease };
        if (ct.IsCancellationRequested)
        {
            // Cancelled while the put was in flight: withdraw the key if this campaign created it.
            // A resumed candidacy (same lease, key already there) is left alone, as etcd leaves it
            // when its txn returns the context's error.
            if (resp.Succeeded)
            {
                await ResignAsync(leader, CancellationToken.None).ConfigureAwait(false);
            }
            throw EtcdErrors.Canceled;
        }
        try
        {
            if (!resp.Succeeded)
            {
                // Campaigning again with the same lease resumes the earlier candidacy (etcd's recipe).
                var kv = resp.Responses[0].ResponseRange.Kvs[0];
                leader.Rev = kv.CreateRevision;
                if (kv.Value != request.Value)
                {
                    try
                    {
                        await ProclaimAsync(leader, request.Value, ct).ConfigureAwait(false);
                    }
                    catch when (!ct.IsCancellationRequested)
                    {
                        await ResignAsync(leader, CancellationToken.None).ConfigureAwait(false);
                        throw;
                    }
                }
            }
            await RecipeKv.WaitDeletesAsync(member, prefix, leader.Rev - 1, ct).ConfigureAwait(false);
        }
        catch when (ct.IsCancellationRequested)
        {
            // The caller gave up while waiting (the wait's watch throws OperationCanceledException,
            // its linearizable reads a Cancelled RpcException): withdraw, so the candidacy does not
            // win later unseen (etcd resigns here, a resumed candidacy too). The delete is guarded
            // by the create revision: it removes only the candidacy this campaign stands for.
            await ResignAsync(leader, CancellationToken.None).ConfigureAwait(false);
            throw;
        }
        return new CampaignResponse { Header = resp.Header, Leader = leader };
    }

    public override async Task<ProclaimResponse> Proclaim(ProclaimRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw RecipeErrors.MissingLeaderKey;
        var header = await ProclaimAsync(leader, request.Value, context.CancellationToken).ConfigureAwait(false);
        return new ProclaimResponse { Header = header };
    }

    public override async Task<LeaderResponse> Leader(LeaderRequest request, ServerCallContext context)
    {
        var resp = await RecipeKv.RangeAsync(member, RecipeKv.FirstCreate(RecipeKv.Prefix(request.Name)), context.CancellationToken).ConfigureAwait(false);
        if (resp.Kvs.Count == 0)
        {
            throw RecipeErrors.NoLeader;
        }
        return new LeaderResponse { Header = resp.Header, Kv = resp.Kvs[0] };
    }

    /// <summary>
    /// Streams the leader's key-value: the current one (or the first to be elected), every
    /// proclaimed value, and after the key's deletion the next leader, as etcd's
    /// <c>Election.Observe</c>. The stream ends when the caller leaves or the member stops.
    /// </summary>
    public override async Task Observe(LeaderRequest request, IServerStreamWriter<LeaderResponse> responseStream, ServerCallContext context)
    {
        using var call = member.StreamToken(context);
        var ct = call.Token;
        var prefix = RecipeKv.Prefix(request.Name);
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var first = await RecipeKv.RangeAsync(member, RecipeKv.FirstCreate(prefix), ct).ConfigureAwait(false);
                LeaderResponse current;
                if (first.Kvs.Count > 0)
                {
                    current = new LeaderResponse { Header = first.Header, Kv = first.Kvs[0] };
                }
                else if (await FirstPutAsync(prefix, first.Header.Revision, ct).ConfigureAwait(false) is { } elected)
                {
                    current = elected;
                }
                else
                {
                    return;
                }
                await responseStream.WriteAsync(current, ct).ConfigureAwait(false);
                if (!await FollowAsync(current, responseStream, ct).ConfigureAwait(false))
                {
                    return;
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            // Also when the stop ended the observed watch and the loop returned.
            member.ThrowIfStopped(context);
        }
    }

    public override async Task<ResignResponse> Resign(ResignRequest request, ServerCallContext context)
    {
        var leader = request.Leader ?? throw RecipeErrors.MissingLeaderKey;
        var header = await ResignAsync(leader, context.CancellationToken).ConfigureAwait(false);
        return new ResignResponse { Header = header };
    }

    /// <summary>Puts a new value on the leader key, only while it is still the same key (same create revision).</summary>
    private async Task<ResponseHeader> ProclaimAsync(LeaderKey leader, Google.Protobuf.ByteString value, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKv.CreateRevisionIs(leader.Key, leader.Rev));
        txn.Success.Add(new RequestOp { RequestPut = new PutRequest { Key = leader.Key, Value = value, Lease = leader.Lease } });
        var resp = await RecipeKv.TxnAsync(member, txn, ct).ConfigureAwait(false);
        return resp.Succeeded ? resp.Header : throw RecipeErrors.NotLeader;
    }

    /// <summary>Deletes the leader key if it is still the same key; resigning twice is not an error.</summary>
    private async Task<ResponseHeader> ResignAsync(LeaderKey leader, CancellationToken ct)
    {
        var txn = new TxnRequest();
        txn.Compare.Add(RecipeKv.CreateRevisionIs(leader.Key, leader.Rev));
        txn.Success.Add(new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = leader.Key } });
        var resp = await RecipeKv.TxnAsync(member, txn, ct).ConfigureAwait(false);
        return resp.Header;
    }

    /// <summary>No leader yet: waits for the first put under the prefix from <paramref name="revision"/>
    /// (a delete there would be an older candidate withdrawing, not an election).</summary>
    private async Task<LeaderResponse?> FirstPutAsync(Google.Protobuf.ByteString prefix, long revision, CancellationToken ct)
    {
        using var watch = RecipeKv.Watch(member, prefix, RecipeKv.PrefixEnd(prefix), revision);
        while (await watch.NextAsync(ct).ConfigureAwait(false) is { } events)
        {
            if (events.FirstOrDefault(e => e.Type == WatchEventType.Put) is { } put)
            {
                return new LeaderResponse { Header = member.Header(put.Kv.ModRevision), Kv = ProtoConvert.ToProto(put.Kv) };
            }
        }
        return null;
    }

    /// <summary>Streams the leader key's new values until it is deleted (true) or the watch
    /// cannot go on (false).</summary>
    private async Task<bool> FollowAsync(LeaderResponse current, IServerStreamWriter<LeaderResponse> responseStream, CancellationToken ct)
    {
        using var watch = RecipeKv.Watch(member, current.Kv.Key, null, current.Header.Revision + 1);
        while (await watch.NextAsync(ct).ConfigureAwait(false) is { } events)
        {
            foreach (var e in events)
            {
                if (e.Type == WatchEventType.Delete)
                {
                    return true;
                }
                await responseStream.WriteAsync(new LeaderResponse { Header = member.Header(e.Kv.ModRevision), Kv = ProtoConvert.ToProto(e.Kv) }, ct).ConfigureAwait(false);
            }
        }
        return false;
    }
}
