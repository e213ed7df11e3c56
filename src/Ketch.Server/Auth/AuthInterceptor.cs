using Grpc.Core;
using Grpc.Core.Interceptors;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Api;

namespace Ketch.Server.Auth;

/// <summary>
/// Authentication and permission checks for every gRPC call, in one place, so the services stay as
/// they are. A <c>token</c> (or <c>authorization</c>) header must name a live token, else
/// <c>invalid auth token</c>; the caller is kept in <see cref="ServerCallContext.UserState"/> for
/// the Auth service. While auth is enabled, requests are checked as etcd checks them: KV ranges and
/// writes (every op of a txn), lease revocation (write on the lease's keys), watch creation,
/// member changes and Defragment/Hash/HashKV/Snapshot (root only), elections and locks (the keys
/// under their name). The JSON gateway asks the same questions through <see cref="CheckGateway"/>.
/// With auth disabled and no token
/// nothing is checked.
/// </summary>
/// <remarks>A request that passed is served with its sender in <see cref="RequestAuth.Current"/>:
/// the user and the auth revision of this check travel with its proposal, and every member checks
/// the entry again when it applies it (<see cref="AuthStore.CheckEntry"/>), as etcd does.</remarks>
internal sealed class AuthInterceptor(MemberContext member) : Interceptor
{
    private const string CallerKey = "ketch.auth.caller";

    private AuthStore Store => member.Loop.Auth;

    /// <summary>The caller resolved for this call (null: no token).</summary>
    public static AuthInfo? Caller(ServerCallContext context) =>
        context.UserState.TryGetValue(CallerKey, out var v) ? v as AuthInfo : null;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (context.Method == "/etcdserverpb.Auth/Authenticate")
        {
            return continuation(request, context);
        }
        // The revision is read before the check: a change landing in between makes the proposal
        // look older than the state it was checked against, never newer.
        var revision = Store.Revision;
        var caller = Resolve(context);
        if (Store.Enabled && Check(context.Method, request, caller) is { } denied)
        {
            throw denied;
        }
        return WithSender(RequestAuth.For(caller, revision), () => continuation(request, context));
    }

    /// <summary>Runs <paramref name="call"/> with <paramref name="sender"/> as the request's sender
    /// (an async method, so the value flows into the call and not back out of it).</summary>
    internal static async Task<T> WithSender<T>(RequestAuth sender, Func<Task<T>> call)
    {
        RequestAuth.Current = sender;
        return await call().ConfigureAwait(false);
    }

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        var caller = Resolve(context);
        if (Store.Enabled && context.Method == "/etcdserverpb.Maintenance/Snapshot" && Store.CheckAdmin(caller) is { } denied)
        {
            throw AuthErrors.Raw(denied);
        }
        if (Store.Enabled && request is Ketch.Api.V3electionpb.LeaderRequest observe && CheckPrefix(caller, observe.Name, Read) is { } refused)
        {
            throw refused;
        }
        return continuation(request, responseStream, context);
    }

    /// <summary>
    /// The JSON gateway's check (<c>/v3/kv/*</c> and friends): the same rules as a gRPC call, with the
    /// token from the HTTP <c>Authorization</c> header, which etcd's grpc-gateway forwards as the
    /// call's token. Null: allowed.
    /// </summary>
    internal RpcException? CheckGateway(string method, object request, string? token, out AuthInfo? caller, out RequestAuth sender)
    {
        var revision = Store.Revision;
        caller = null;
        sender = RequestAuth.For(null, revision);
        if (!string.IsNullOrEmpty(token))
        {
            caller = Store.Tokens.Info(token);
            if (caller is null)
            {
                return AuthErrors.InvalidAuthToken;
            }
            sender = RequestAuth.For(caller, revision);
        }
        return Store.Enabled ? Check(method, request, caller) : null;
    }

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        Resolve(context);
        if (requestStream is IAsyncStreamReader<WatchRequest> watchRequests && responseStream is IServerStreamWriter<WatchResponse> watchResponses)
        {
            var writer = new SerializedWriter<WatchResponse>(watchResponses);
            var reader = new WatchGate(watchRequests, writer, this, context);
            return continuation((IAsyncStreamReader<TRequest>)(object)reader, (IServerStreamWriter<TResponse>)(object)writer, context);
        }
        return continuation(requestStream, responseStream, context);
    }

    /// <summary>Maps the call's token to its user; an unknown token fails the call. Without a
    /// token, with <c>--client-cert-auth</c>, the user is the Common Name of the client
    /// certificate the connection was verified with (etcd 3.4 <c>AuthInfoFromTLS</c>): a CN that
    /// names no user is refused by the permission check like any unknown user, and a certificate
    /// without CN is the empty user.</summary>
    private AuthInfo? Resolve(ServerCallContext context)
    {
        var token = context.RequestHeaders.GetValue("token") ?? context.RequestHeaders.GetValue("authorization");
        var caller = token is null ? FromCertificate(context) : Store.Tokens.Info(token) ?? throw AuthErrors.InvalidAuthToken;
        if (caller is not null)
        {
            context.UserState[CallerKey] = caller;
        }
        return caller;
    }

    /// <summary>The client certificate's user. The JSON gateway never comes here: etcd's gateway
    /// calls the server with the member's own certificate and the server ignores its CN
    /// (<c>grpcgateway-accept</c>), so gateway requests are token-only, as
    /// <see cref="CheckGateway"/> has them.</summary>
    private AuthInfo? FromCertificate(ServerCallContext context)
    {
        // Kestrel exposes only a certificate that passed Tls.TlsCredentials.VerifyClient (the
        // handshake fails otherwise): etcd reads the CN from the verified chain. Auto TLS accepts
        // any client certificate (nothing could verify one), so its CNs name nobody.
        if (context is Http.GatewayCallContext || !member.Options.ClientTls.ClientCertAuth || member.ClientTls is not { SelfSigned: false })
        {
            return null;
        }
        var certificate = context.GetHttpContext().Connection.ClientCertificate;
        return certificate is null ? null : new AuthInfo(Tls.TlsCredentials.CommonName(certificate));
    }

    internal ResponseHeader Header() => member.Header();

    /// <summary>etcd's watch check, done when the create request arrives: a refusal is a watch
    /// response (created and canceled, id -1) whose cancel reason is the error's text.</summary>
    internal string? CheckWatch(WatchCreateRequest create, ServerCallContext context)
    {
        if (!Store.Enabled)
        {
            return null;
        }
        AuthInfo? caller;
        try
        {
            caller = Resolve(context);
        }
        catch (RpcException e)
        {
            return CancelReason(e);
        }
        return Store.CheckRange(caller, create.Key.Span, create.RangeEnd.Span, Ketch.Api.Authpb.Permission.Types.Type.Read) is { } denied
            ? CancelReason(denied)
            : null;
    }

    /// <summary>etcd puts the gRPC error's Go text in the cancel reason (<c>status.Err().Error()</c>).</summary>
    private static string CancelReason(RpcException e) => $"rpc error: code = {e.StatusCode} desc = {e.Status.Detail}";

    private RpcException? Check(string method, object request, AuthInfo? caller) => request switch
    {
        RangeRequest r => Store.CheckRange(caller, r.Key.Span, Apply.ProtoConvert.RangeEndOf(r).Span, Read),
        PutRequest r => CheckPut(caller, r),
        DeleteRangeRequest r => CheckDelete(caller, r),
        TxnRequest r => CheckTxn(caller, r),
        LeaseRevokeRequest r => CheckLeasePuts(caller, r.ID),
        MemberAddRequest or MemberRemoveRequest or MemberUpdateRequest or MemberPromoteRequest => Store.CheckAdmin(caller),
        // Raising or clearing an alarm stops or resumes every write, and moving the leader is a
        // cluster operation: root only (etcd fixed the same gap in 3.5.28); listing alarms is open.
        AlarmRequest { Action: not AlarmRequest.Types.AlarmAction.Get } or MoveLeaderRequest => Store.CheckAdmin(caller),
        DefragmentRequest or HashRequest or HashKVRequest => Store.CheckAdmin(caller) is { } e ? AuthErrors.Raw(e) : null,
        // Elections and locks are KV operations under "<name>/" done for the caller (etcd runs them
        // through a client carrying the caller's token): campaigning and locking write a key there
        // and read the others; proclaiming, resigning and unlocking write the caller's own key.
        Ketch.Api.V3electionpb.CampaignRequest r => CheckPrefix(caller, r.Name, Write) ?? CheckPrefix(caller, r.Name, Read),
        Ketch.Api.V3electionpb.LeaderRequest r => CheckPrefix(caller, r.Name, Read),
        Ketch.Api.V3electionpb.ProclaimRequest r => r.Leader is null ? null : Store.CheckRange(caller, r.Leader.Key.Span, default, Write),
        Ketch.Api.V3electionpb.ResignRequest r => r.Leader is null ? null : Store.CheckRange(caller, r.Leader.Key.Span, default, Write),
        Ketch.Api.V3lockpb.LockRequest r => CheckPrefix(caller, r.Name, Write) ?? CheckPrefix(caller, r.Name, Read),
        Ketch.Api.V3lockpb.UnlockRequest r => Store.CheckRange(caller, r.Key.Span, default, Write),
        _ => null,
    };

    /// <summary>Permission of <paramref name="type"/> over every key under <c>name + "/"</c>, the
    /// range the election and lock recipes use (<see cref="Concurrency.RecipeKv"/>).</summary>
    private RpcException? CheckPrefix(AuthInfo? caller, Google.Protobuf.ByteString name, Ketch.Api.Authpb.Permission.Types.Type type)
    {
        var prefix = Concurrency.RecipeKv.Prefix(name);
        return Store.CheckRange(caller, prefix.Span, Concurrency.RecipeKv.PrefixEnd(prefix).Span, type);
    }

    private static Ketch.Api.Authpb.Permission.Types.Type Read => Ketch.Api.Authpb.Permission.Types.Type.Read;

    private static Ketch.Api.Authpb.Permission.Types.Type Write => Ketch.Api.Authpb.Permission.Types.Type.Write;

    private RequestPermissions Rules => new(Store, member.Loop.AttachedKeys);

    private RpcException? CheckPut(AuthInfo? caller, PutRequest r) => Rules.CheckPut(caller, r);

    private RpcException? CheckDelete(AuthInfo? caller, DeleteRangeRequest r) => Rules.CheckDelete(caller, r);

    private RpcException? CheckTxn(AuthInfo? caller, TxnRequest r) => Rules.CheckTxn(caller, r);

    private RpcException? CheckLeasePuts(AuthInfo? caller, long lease) => Rules.CheckLeasePuts(caller, lease);
}
