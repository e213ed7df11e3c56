using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using V3Election = Ketch.Api.V3electionpb;
using V3Lock = Ketch.Api.V3lockpb;

namespace Ketch.Server.Http;

/// <summary>
/// The HTTP/1 side of the client port: <c>/health</c>, <c>/version</c>, <c>/metrics</c> and
/// etcd's JSON gateway: every method of KV, Watch, Lease, Cluster, Maintenance, Auth, Election
/// and Lock under etcd's <c>/v3/...</c> paths (protobuf's JSON mapping with proto field names, as
/// etcd's grpc-gateway: bytes in base64, 64-bit integers as strings; streams as
/// <see cref="GatewayStreams"/>).
/// </summary>
internal static class HttpEndpoints
{
    private static readonly JsonFormatter s_formatter = new(JsonFormatter.Settings.Default.WithPreserveProtoFieldNames(true));
    private static readonly JsonParser s_parser = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    public static void Map(IEndpointRouteBuilder app, MemberContext member, LeaderLossMonitor leaderLoss)
    {
        // The gateway's checks, as for gRPC calls: permissions, and etcd's require-leader metadata
        // (Grpc-Metadata-Hasleader), which etcd's grpc-gateway forwards to the member's gRPC port.
        var auth = new Auth.AuthInterceptor(member);
        var requireLeader = new RequireLeaderGate(member, leaderLoss);
        app.MapGet("/version", () => Results.Text(
            $"{{\"etcdserver\":\"{EtcdVersion.Server}\",\"etcdcluster\":\"{EtcdVersion.Cluster}\"}}", "application/json"));
        app.MapGet("/health", (Delegate)((HttpContext http) => HealthChecks.HealthAsync(member, http)));
        app.MapGet("/livez", (Delegate)((HttpContext http) => HealthChecks.LivezAsync(member, http)));
        app.MapGet("/readyz", (Delegate)((HttpContext http) => HealthChecks.ReadyzAsync(member, http)));
        app.MapGet("/metrics", () =>
        {
            var metrics = member.Metrics;
            metrics.ScrapeStarted();
            var served = false;
            try
            {
                var text = metrics.Render(member.Loop, member.Options.EffectiveQuotaBytes);
                served = true;
                return Results.Text(text, "text/plain; version=0.0.4; charset=utf-8");
            }
            finally
            {
                metrics.ScrapeDone(served);
            }
        });
        if (!member.Options.EnableGrpcGateway)
        {
            return; // --enable-grpc-gateway=false: /v3/... answers 404, as etcd's mux without the gateway
        }
        MapGateway<RangeRequest, RangeResponse>(app, "/v3/kv/range", member, auth, KvService.RangeAsync);
        MapGateway<PutRequest, PutResponse>(app, "/v3/kv/put", member, auth, KvService.PutAsync);
        MapGateway<DeleteRangeRequest, DeleteRangeResponse>(app, "/v3/kv/deleterange", member, auth, KvService.DeleteRangeAsync);
        MapGateway<TxnRequest, TxnResponse>(app, "/v3/kv/txn", member, auth, KvService.TxnAsync);
        MapGateway<CompactionRequest, CompactionResponse>(app, "/v3/kv/compaction", member, auth, KvService.CompactAsync);
        MapGateway<LeaseGrantRequest, LeaseGrantResponse>(app, "/v3/lease/grant", member, auth, LeaseService.GrantAsync);
        MapGateway<LeaseRevokeRequest, LeaseRevokeResponse>(app, "/v3/lease/revoke", member, auth, LeaseService.RevokeAsync);
        MapGateway<LeaseRevokeRequest, LeaseRevokeResponse>(app, "/v3/kv/lease/revoke", member, auth, LeaseService.RevokeAsync);
        MapGateway<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse>(app, "/v3/lease/timetolive", member, auth, LeaseService.TimeToLiveAsync);
        MapGateway<LeaseTimeToLiveRequest, LeaseTimeToLiveResponse>(app, "/v3/kv/lease/timetolive", member, auth, LeaseService.TimeToLiveAsync);
        MapGateway<LeaseLeasesRequest, LeaseLeasesResponse>(app, "/v3/lease/leases", member, auth, LeaseService.LeasesAsync);
        MapGateway<LeaseLeasesRequest, LeaseLeasesResponse>(app, "/v3/kv/lease/leases", member, auth, LeaseService.LeasesAsync);
        var clusterService = new ClusterService(member);
        MapGateway<MemberListRequest, MemberListResponse>(app, "/v3/cluster/member/list", member, auth,
            (_, r, ct) => clusterService.MemberList(r, GatewayCallContext.For("/etcdserverpb.Cluster/MemberList", ct)));
        MapAuthGateway(app, member, auth);
        MapServiceGateways(app, member, auth, requireLeader);
    }

    /// <summary>
    /// etcd's gateway paths of the Cluster, Maintenance, Election and Lock services, and the
    /// streaming ones (<c>/v3/watch</c>, <c>/v3/lease/keepalive</c>, <c>/v3/maintenance/snapshot</c>,
    /// <c>/v3/election/observe</c>): the gRPC services run in process, with the caller checked as for
    /// a gRPC call. Until 2026-11-27 these answered 404, and python3-etcd3gw's watch waited forever.
    /// </summary>
    private static void MapServiceGateways(IEndpointRouteBuilder app, MemberContext member, Auth.AuthInterceptor auth, RequireLeaderGate requireLeader)
    {
        static GatewayCallContext Call(string method, CancellationToken ct) => GatewayCallContext.For(method, ct);
        var cluster = new ClusterService(member);
        MapGateway<MemberAddRequest, MemberAddResponse>(app, "/v3/cluster/member/add", member, auth, (_, r, ct) => cluster.MemberAdd(r, Call("/etcdserverpb.Cluster/MemberAdd", ct)));
        MapGateway<MemberRemoveRequest, MemberRemoveResponse>(app, "/v3/cluster/member/remove", member, auth, (_, r, ct) => cluster.MemberRemove(r, Call("/etcdserverpb.Cluster/MemberRemove", ct)));
        MapGateway<MemberUpdateRequest, MemberUpdateResponse>(app, "/v3/cluster/member/update", member, auth, (_, r, ct) => cluster.MemberUpdate(r, Call("/etcdserverpb.Cluster/MemberUpdate", ct)));
        MapGateway<MemberPromoteRequest, MemberPromoteResponse>(app, "/v3/cluster/member/promote", member, auth, (_, r, ct) => cluster.MemberPromote(r, Call("/etcdserverpb.Cluster/MemberPromote", ct)));
        var maintenance = new MaintenanceService(member);
        MapGateway<AlarmRequest, AlarmResponse>(app, "/v3/maintenance/alarm", member, auth, (_, r, ct) => maintenance.Alarm(r, Call("/etcdserverpb.Maintenance/Alarm", ct)));
        MapGateway<StatusRequest, StatusResponse>(app, "/v3/maintenance/status", member, auth, (_, r, ct) => maintenance.Status(r, Call("/etcdserverpb.Maintenance/Status", ct)));
        MapGateway<DefragmentRequest, DefragmentResponse>(app, "/v3/maintenance/defragment", member, auth, (_, r, ct) => maintenance.Defragment(r, Call("/etcdserverpb.Maintenance/Defragment", ct)));
        MapGateway<HashRequest, HashResponse>(app, "/v3/maintenance/hash", member, auth, (_, r, ct) => maintenance.Hash(r, Call("/etcdserverpb.Maintenance/Hash", ct)));
        MapGateway<HashKVRequest, HashKVResponse>(app, "/v3/maintenance/hashkv", member, auth, (_, r, ct) => maintenance.HashKV(r, Call("/etcdserverpb.Maintenance/HashKV", ct)));
        MapGateway<MoveLeaderRequest, MoveLeaderResponse>(app, "/v3/maintenance/transfer-leadership", member, auth, (_, r, ct) => maintenance.MoveLeader(r, Call("/etcdserverpb.Maintenance/MoveLeader", ct)));
        var election = new ElectionService(member);
        MapGateway<V3Election.CampaignRequest, V3Election.CampaignResponse>(app, "/v3/election/campaign", member, auth, (_, r, ct) => election.Campaign(r, Call("/v3electionpb.Election/Campaign", ct)));
        MapGateway<V3Election.ProclaimRequest, V3Election.ProclaimResponse>(app, "/v3/election/proclaim", member, auth, (_, r, ct) => election.Proclaim(r, Call("/v3electionpb.Election/Proclaim", ct)));
        MapGateway<V3Election.LeaderRequest, V3Election.LeaderResponse>(app, "/v3/election/leader", member, auth, (_, r, ct) => election.Leader(r, Call("/v3electionpb.Election/Leader", ct)));
        MapGateway<V3Election.ResignRequest, V3Election.ResignResponse>(app, "/v3/election/resign", member, auth, (_, r, ct) => election.Resign(r, Call("/v3electionpb.Election/Resign", ct)));
        var locks = new LockService(member);
        MapGateway<V3Lock.LockRequest, V3Lock.LockResponse>(app, "/v3/lock/lock", member, auth, (_, r, ct) => locks.Lock(r, Call("/v3lockpb.Lock/Lock", ct)));
        MapGateway<V3Lock.UnlockRequest, V3Lock.UnlockResponse>(app, "/v3/lock/unlock", member, auth, (_, r, ct) => locks.Unlock(r, Call("/v3lockpb.Lock/Unlock", ct)));

        MapDuplexGateway<WatchRequest, WatchResponse>(app, member, "/v3/watch", "/etcdserverpb.Watch/Watch", auth, requireLeader, new WatchService(member).Watch);
        MapDuplexGateway<LeaseKeepAliveRequest, LeaseKeepAliveResponse>(app, member, "/v3/lease/keepalive", "/etcdserverpb.Lease/LeaseKeepAlive", auth, requireLeader, new LeaseService(member).LeaseKeepAlive);
        MapServerStreamGateway<SnapshotRequest, SnapshotResponse>(app, member, "/v3/maintenance/snapshot", "/etcdserverpb.Maintenance/Snapshot", auth, requireLeader, maintenance.Snapshot);
        MapServerStreamGateway<V3Election.LeaderRequest, V3Election.LeaderResponse>(app, member, "/v3/election/observe", "/v3electionpb.Election/Observe", auth, requireLeader, election.Observe);
    }

    /// <summary>A bidirectional streaming method on the gateway (<see cref="GatewayStreams"/>).</summary>
    private static void MapDuplexGateway<TReq, TResp>(IEndpointRouteBuilder app, MemberContext member, string path, string method, Auth.AuthInterceptor auth, RequireLeaderGate requireLeader, DuplexStreamingServerMethod<TReq, TResp> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp> =>
        app.MapPost(path, (Delegate)(async (HttpContext http) =>
        {
            if (RefuseOnLearner(member, null) is { } refused)
            {
                await refused.ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            List<TReq> requests;
            try
            {
                requests = GatewayStreams.ParseAll(await ReadBodyBytesAsync(http).ConfigureAwait(false), ParseRequest<TReq>);
            }
            catch (Exception e) when (IsBadBody(e) || e is System.Text.Json.JsonException)
            {
                // etcd's grpc-gateway reports a bad message on a bidirectional stream as code 2
                // (Unknown), HTTP 500, where a unary or server-streaming call gets 3, HTTP 400.
                await Error(StatusCode.Unknown, e.Message).ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            var responses = new GatewayStreams.Responses<TResp>(http.Response, s_formatter);
            await RunStreamAsync(http, responses, () => new GrpcMetricsInterceptor(member).DuplexStreamingServerHandler(new GatewayStreams.Requests<TReq>(requests), responses, GatewayCallContext.For(method, http),
                (rq, rs, c) => requireLeader.DuplexStreamingServerHandler(rq, rs, c, (rq2, rs2, c2) => auth.DuplexStreamingServerHandler(rq2, rs2, c2, handler)))).ConfigureAwait(false);
        }));

    /// <summary>A server-streaming method on the gateway: the body is its one request.</summary>
    private static void MapServerStreamGateway<TReq, TResp>(IEndpointRouteBuilder app, MemberContext member, string path, string method, Auth.AuthInterceptor auth, RequireLeaderGate requireLeader, ServerStreamingServerMethod<TReq, TResp> handler)
        where TReq : class, IMessage<TReq>, new()
        where TResp : class, IMessage<TResp> =>
        app.MapPost(path, (Delegate)(async (HttpContext http) =>
        {
            if (RefuseOnLearner(member, null) is { } refused)
            {
                await refused.ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            TReq request;
            try
            {
                request = await ParseBodyAsync<TReq>(http).ConfigureAwait(false);
            }
            catch (Exception e) when (IsBadBody(e))
            {
                await Error(StatusCode.InvalidArgument, e.Message).ExecuteAsync(http).ConfigureAwait(false);
                return;
            }
            var responses = new GatewayStreams.Responses<TResp>(http.Response, s_formatter);
            await RunStreamAsync(http, responses, () => new GrpcMetricsInterceptor(member).ServerStreamingServerHandler(request, responses, GatewayCallContext.For(method, http),
                (rq, rs, c) => requireLeader.ServerStreamingServerHandler(rq, rs, c, (rq2, rs2, c2) => auth.ServerStreamingServerHandler(rq2, rs2, c2, handler)))).ConfigureAwait(false);
        }));

    private static async Task RunStreamAsync<TResp>(HttpContext http, GatewayStreams.Responses<TResp> responses, Func<Task> call)
        where TResp : class, IMessage<TResp>
    {
        try
        {
            await call().ConfigureAwait(false);
        }
        catch (RpcException e)
        {
            await responses.FailAsync(e.StatusCode, e.Status.Detail, HttpStatus(e.StatusCode)).ConfigureAwait(false);
        }
        catch (Exception e) when (http.RequestAborted.IsCancellationRequested && e is OperationCanceledException or IOException)
        {
            // The client went away.
        }
    }

    /// <summary>etcd's grpc-gateway paths of the Auth service (<c>/v3/auth/status</c> is 3.5's).</summary>
    private static void MapAuthGateway(IEndpointRouteBuilder app, MemberContext member, Auth.AuthInterceptor auth)
    {
        MapGateway<AuthenticateRequest, AuthenticateResponse>(app, "/v3/auth/authenticate", member, auth, AuthService.AuthenticateAsync);
        MapGateway<AuthEnableRequest, AuthEnableResponse>(app, "/v3/auth/enable", member, auth, AuthService.EnableAsync);
        MapGateway<AuthDisableRequest, AuthDisableResponse>(app, "/v3/auth/disable", member, auth, AuthService.DisableAsync);
        MapGateway<AuthStatusRequest, AuthStatusResponse>(app, "/v3/auth/status", member, auth, AuthService.StatusAsync);
        MapGateway<AuthUserAddRequest, AuthUserAddResponse>(app, "/v3/auth/user/add", member, auth, AuthService.UserAddAsync);
        MapGateway<AuthUserGetRequest, AuthUserGetResponse>(app, "/v3/auth/user/get", member, auth, AuthService.UserGetAsync);
        MapGateway<AuthUserListRequest, AuthUserListResponse>(app, "/v3/auth/user/list", member, auth, AuthService.UserListAsync);
        MapGateway<AuthUserDeleteRequest, AuthUserDeleteResponse>(app, "/v3/auth/user/delete", member, auth, AuthService.UserDeleteAsync);
        MapGateway<AuthUserChangePasswordRequest, AuthUserChangePasswordResponse>(app, "/v3/auth/user/changepw", member, auth, AuthService.UserChangePasswordAsync);
        MapGateway<AuthUserGrantRoleRequest, AuthUserGrantRoleResponse>(app, "/v3/auth/user/grant", member, auth, AuthService.UserGrantRoleAsync);
        MapGateway<AuthUserRevokeRoleRequest, AuthUserRevokeRoleResponse>(app, "/v3/auth/user/revoke", member, auth, AuthService.UserRevokeRoleAsync);
        MapGateway<AuthRoleAddRequest, AuthRoleAddResponse>(app, "/v3/auth/role/add", member, auth, AuthService.RoleAddAsync);
        MapGateway<AuthRoleGetRequest, AuthRoleGetResponse>(app, "/v3/auth/role/get", member, auth, AuthService.RoleGetAsync);
        MapGateway<AuthRoleListRequest, AuthRoleListResponse>(app, "/v3/auth/role/list", member, auth, AuthService.RoleListAsync);
        MapGateway<AuthRoleDeleteRequest, AuthRoleDeleteResponse>(app, "/v3/auth/role/delete", member, auth, AuthService.RoleDeleteAsync);
        MapGateway<AuthRoleGrantPermissionRequest, AuthRoleGrantPermissionResponse>(app, "/v3/auth/role/grant", member, auth, AuthService.RoleGrantPermissionAsync);
        MapGateway<AuthRoleRevokePermissionRequest, AuthRoleRevokePermissionResponse>(app, "/v3/auth/role/revoke", member, auth, AuthService.RoleRevokePermissionAsync);
    }

    private static void MapGateway<TReq, TResp>(IEndpointRouteBuilder app, string path, MemberContext member, Auth.AuthInterceptor auth, Func<MemberContext, TReq, CancellationToken, Task<TResp>> handler)
        where TReq : IMessage<TReq>, new()
        where TResp : IMessage<TResp> =>
        MapGateway<TReq, TResp>(app, path, member, auth, (m, r, _, ct) => handler(m, r, ct));

    /// <summary>One gateway path: the JSON body parsed into <typeparamref name="TReq"/>, the
    /// <c>Authorization</c> header's token resolved and checked as a gRPC call's (except for
    /// Authenticate, which takes none), the handler run with the caller as the request's sender.</summary>
    private static void MapGateway<TReq, TResp>(IEndpointRouteBuilder app, string path, MemberContext member, Auth.AuthInterceptor auth, Func<MemberContext, TReq, Auth.AuthInfo?, CancellationToken, Task<TResp>> handler)
        where TReq : IMessage<TReq>, new()
        where TResp : IMessage<TResp>
    {
        // etcd's gateway calls its own gRPC port, so its calls are in the gRPC series (with no
        // client-api-version header): a parsed request counts as a call of the method it stands for.
        var method = GrpcMetrics.UnaryMethodTaking(new TReq().Descriptor);
        app.MapPost(path, (Delegate)(async (HttpContext http) =>
        {
            TReq request;
            try
            {
                request = await ParseBodyAsync<TReq>(http).ConfigureAwait(false);
            }
            catch (Exception e) when (IsBadBody(e))
            {
                return Error(StatusCode.InvalidArgument, e.Message);
            }
            var counted = method is null ? null : member.Metrics.Grpc.Started(method, "unary", null);
            counted?.Received(request);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            IResult Failed(StatusCode code, string detail)
            {
                counted?.Finished(code, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                return Error(code, detail);
            }
            if (LearnerGate.Refuses(member, request))
            {
                return Failed(StatusCode.Unavailable, EtcdErrors.NotSupportedForLearner.Status.Detail);
            }
            if (RequireLeaderGate.Refuses(member, () => GatewayCallContext.Headers(http.Request)))
            {
                return Failed(StatusCode.Unavailable, EtcdErrors.NoLeader.Status.Detail);
            }
            Auth.AuthInfo? caller = null;
            var sender = new Auth.RequestAuth("", member.Loop.Auth.Revision);
            if (request is not AuthenticateRequest
                && auth.CheckGateway(path, request, http.Request.Headers.Authorization.ToString(), out caller, out sender) is { } denied)
            {
                return Failed(denied.StatusCode, denied.Status.Detail);
            }
            try
            {
                var response = await Auth.AuthInterceptor.WithSender(sender, () => handler(member, request, caller, http.RequestAborted)).ConfigureAwait(false);
                counted?.Finished(StatusCode.OK, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                counted?.Sent(response);
                return Results.Text(CompactJson.Format(s_formatter, response), "application/json");
            }
            catch (RpcException e)
            {
                return Failed(e.StatusCode, e.Status.Detail);
            }
            catch (Exception e)
            {
                // Not an answer of the service (the client went away, a bug): counted as gRPC would.
                counted?.Finished(e is OperationCanceledException ? StatusCode.Cancelled : StatusCode.Unknown, System.Diagnostics.Stopwatch.GetElapsedTime(started));
                throw;
            }
        }));
    }

    /// <summary>The answer of a learner to a gateway call it does not serve (<see cref="LearnerGate"/>;
    /// null <paramref name="request"/>: a stream), or null when it serves it.</summary>
    private static IResult? RefuseOnLearner(MemberContext member, object? request) =>
        LearnerGate.Refuses(member, request) ? Error(StatusCode.Unavailable, EtcdErrors.NotSupportedForLearner.Status.Detail) : null;

    /// <summary>A request body that is not a valid message: what the parsers below throw.</summary>
    private static bool IsBadBody(Exception e) => e is InvalidProtocolBufferException or InvalidJsonException or FormatException;

    /// <summary>The body's one request message; an empty body is the empty message.</summary>
    private static async Task<TReq> ParseBodyAsync<TReq>(HttpContext http)
        where TReq : IMessage<TReq>, new()
    {
        var text = await ReadBodyAsync(http).ConfigureAwait(false);
        return string.IsNullOrWhiteSpace(text) ? new TReq() : ParseRequest<TReq>(text);
    }

    /// <summary>One request message from its JSON (<see cref="GatewayEnums"/>).</summary>
    private static TReq ParseRequest<TReq>(string json)
        where TReq : IMessage<TReq>, new() => GatewayEnums.Parse<TReq>(s_parser, json);

    /// <summary>The request body as JSON text for protobuf's parser (<see cref="GatewayJson"/>).</summary>
    private static async Task<string> ReadBodyAsync(HttpContext http) =>
        GatewayJson.QuoteLargeIntegers(await ReadBodyBytesAsync(http).ConfigureAwait(false));

    private static async Task<byte[]> ReadBodyBytesAsync(HttpContext http)
    {
        using var body = new MemoryStream();
        await http.Request.Body.CopyToAsync(body, http.RequestAborted).ConfigureAwait(false);
        return body.ToArray();
    }

    /// <summary>grpc-gateway's error body and its gRPC-to-HTTP status mapping.</summary>
    private static IResult Error(StatusCode code, string message)
    {
        // Quotes as \" (Go's encoder), not the default encoder's \u0022.
        var escaped = System.Text.Json.JsonEncodedText.Encode(message, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString();
        return Results.Text($"{{\"error\":\"{escaped}\",\"message\":\"{escaped}\",\"code\":{(int)code}}}", "application/json", Encoding.UTF8, HttpStatus(code));
    }

    /// <summary>grpc-gateway's HTTP status for a gRPC status code.</summary>
    private static int HttpStatus(StatusCode code) => code switch
    {
        StatusCode.InvalidArgument or StatusCode.OutOfRange => 400,
        StatusCode.FailedPrecondition => 412, // as etcd 3.4's gateway answers, e.g. "user name already exists"
        StatusCode.NotFound => 404,
        StatusCode.AlreadyExists or StatusCode.Aborted => 409,
        StatusCode.PermissionDenied => 403,
        StatusCode.Unauthenticated => 401,
        StatusCode.ResourceExhausted => 429,
        StatusCode.Unimplemented => 501,
        StatusCode.Unavailable => 503,
        StatusCode.DeadlineExceeded => 504,
        _ => 500,
    };
}
