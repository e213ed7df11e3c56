using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using Ketch.Server.Lease;

namespace Ketch.Server.Api;

/// <summary>etcd's Lease service. Grant and revoke go through Raft; keep-alive and time-to-live
/// are answered by the leader (a follower forwards them).</summary>
internal sealed class LeaseService(MemberContext member) : Ketch.Api.Etcdserverpb.Lease.LeaseBase
{
    public override Task<LeaseGrantResponse> LeaseGrant(LeaseGrantRequest request, ServerCallContext context) =>
        GrantAsync(member, request, context.CancellationToken);

    internal static async Task<LeaseGrantResponse> GrantAsync(MemberContext member, LeaseGrantRequest request, CancellationToken ct)
    {
        if (request.TTL > Lessor.MaxTtlSeconds)
        {
            throw EtcdErrors.LeaseTtlTooLarge;
        }
        member.CheckQuota(request);
        var r = request.Clone();
        if (r.ID == 0)
        {
            r.ID = (long)(member.Loop.NextId() & long.MaxValue);
        }
        var resp = await member.ProposeAsync<LeaseGrantResponse>(RaftRequestKind.LeaseGrant, r, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override Task<LeaseRevokeResponse> LeaseRevoke(LeaseRevokeRequest request, ServerCallContext context) =>
        RevokeAsync(member, request, context.CancellationToken);

    internal static async Task<LeaseRevokeResponse> RevokeAsync(MemberContext member, LeaseRevokeRequest request, CancellationToken ct)
    {
        var resp = await member.ProposeAsync<LeaseRevokeResponse>(RaftRequestKind.LeaseRevoke, request, ct).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override async Task LeaseKeepAlive(IAsyncStreamReader<LeaseKeepAliveRequest> requestStream, IServerStreamWriter<LeaseKeepAliveResponse> responseStream, ServerCallContext context)
    {
        using var call = member.StreamToken(context);
        var ct = call.Token;
        using var forward = member.LeaderClient is { } leader ? new KeepAliveForwarder(leader) : null;
        try
        {
            while (await requestStream.MoveNext(ct).ConfigureAwait(false))
            {
                var id = requestStream.Current.ID;
                LeaseKeepAliveResponse? resp = null;
                if (!member.Loop.IsLeader)
                {
                    resp = await (forward ?? throw EtcdErrors.NoLeader).RenewAsync(id, ct).ConfigureAwait(false);
                    resp?.Header = member.Header();
                }
                if (resp is null)
                {
                    // This member leads (or came to lead while the renewal waited for a leader).
                    var ttl = member.Loop.Lessor.Renew(id);
                    if (ttl < 0)
                    {
                        // A grant the client saw applied on a follower may be committed but not yet
                        // applied here: a follower can apply a commit before its leader does. Wait
                        // until this member has applied everything committed, then look again, as
                        // etcd's LeaseRenew waits for its applied index (etcd-io/etcd#13675).
                        // Without it a keep-alive right after a grant could answer "not found" (TTL
                        // 0), and clientv3 then stops renewing a lease that exists.
                        await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
                        ttl = member.Loop.Lessor.Renew(id);
                    }
                    resp = new LeaseKeepAliveResponse { Header = member.Header(), ID = id, TTL = Math.Max(ttl, 0) };
                }
                await responseStream.WriteAsync(resp, ct).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (IOException e)
        {
            // The client reset its stream (clientv3 does when its context ends) or its connection
            // broke: ordinary, and etcd logs it at debug level. Escaping, the IOException was
            // logged as an error with a stack trace by gRPC's call handler; as a status it is not,
            // and it still counts Unavailable, as etcd counts a broken keep-alive stream.
            throw new RpcException(new Status(StatusCode.Unavailable, "the client's stream broke", e));
        }
        finally
        {
            // Whatever the stop interrupted (a read, a forwarded renewal), the client hears "stopped".
            member.ThrowIfStopped(context);
        }
    }

    public override Task<LeaseTimeToLiveResponse> LeaseTimeToLive(LeaseTimeToLiveRequest request, ServerCallContext context) =>
        TimeToLiveAsync(member, request, context.CancellationToken);

    internal static async Task<LeaseTimeToLiveResponse> TimeToLiveAsync(MemberContext member, LeaseTimeToLiveRequest request, CancellationToken ct)
    {
        if (!member.Loop.IsLeader && member.LeaderClient is { } leader &&
            await leader.CallLeaseAsync((lease, t) => lease.LeaseTimeToLiveAsync(request, cancellationToken: t).ResponseAsync, ct).ConfigureAwait(false) is { } forwarded)
        {
            forwarded.Header = member.Header();
            return forwarded;
        }
        await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
        var ttl = member.Loop.Lessor.TimeToLive(request.ID);
        if (ttl is null)
        {
            return new LeaseTimeToLiveResponse { Header = member.Header(), ID = request.ID, TTL = -1 };
        }
        var resp = new LeaseTimeToLiveResponse { Header = member.Header(), ID = request.ID, TTL = ttl.Value.Remaining, GrantedTTL = ttl.Value.Granted };
        if (request.Keys)
        {
            foreach (var k in member.Loop.AttachedKeys(request.ID))
            {
                resp.Keys.Add(Google.Protobuf.UnsafeByteOperations.UnsafeWrap(k));
            }
        }
        return resp;
    }

    public override Task<LeaseLeasesResponse> LeaseLeases(LeaseLeasesRequest request, ServerCallContext context) =>
        LeasesAsync(member, request, context.CancellationToken);

    internal static Task<LeaseLeasesResponse> LeasesAsync(MemberContext member, LeaseLeasesRequest request, CancellationToken ct)
    {
        var resp = new LeaseLeasesResponse { Header = member.Header() };
        foreach (var id in member.Loop.Lessor.Ids())
        {
            resp.Leases.Add(new LeaseStatus { ID = id });
        }
        return Task.FromResult(resp);
    }
}
