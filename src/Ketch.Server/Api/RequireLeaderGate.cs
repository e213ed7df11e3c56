using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.AspNetCore.Http;

namespace Ketch.Server.Api;

/// <summary>
/// etcd's require-leader metadata: a call that carries <c>hasleader: true</c> (clientv3's
/// <c>WithRequireLeader</c>, which Kubernetes' API server puts on its watches) is refused with
/// Unavailable <c>etcdserver: no leader</c> when this member knows no leader, instead of waiting
/// for one or answering from a member that may be cut off. A stream that was accepted is ended with
/// the same error if the leader stays lost (<see cref="LeaderLossMonitor"/>): the stream's handler
/// sees its call cancelled, and the client hears "no leader" and reconnects elsewhere. Calls without
/// the metadata are untouched. After the learner gate, before auth, as in etcd's interceptor.
/// </summary>
internal sealed class RequireLeaderGate(MemberContext member, LeaderLossMonitor monitor) : Interceptor
{
    /// <summary>etcd's <c>rpctypes.MetadataRequireLeaderKey</c> and <c>MetadataHasLeader</c>.</summary>
    private const string Key = "hasleader";
    private const string HasLeader = "true";

    private static bool Requires(ServerCallContext context) => Requires(context.RequestHeaders);

    private static bool Requires(Metadata headers) => string.Equals(headers.GetValue(Key), HasLeader, StringComparison.Ordinal);

    /// <summary>Whether a unary call with <paramref name="headers"/> is refused now (the JSON
    /// gateway's check, which runs its unary methods outside the interceptors). The headers are
    /// only made when there is no leader: with one, no call is refused.</summary>
    public static bool Refuses(MemberContext member, Func<Metadata> headers) => member.Loop.Leader == 0 && Requires(headers());

    private void RefuseWithoutLeader()
    {
        if (member.Loop.Leader == 0)
        {
            throw EtcdErrors.NoLeader;
        }
    }

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (Requires(context))
        {
            RefuseWithoutLeader();
        }
        return continuation(request, context);
    }

    // etcd's API has no client-streaming method: only server and bidirectional streams are gated.
    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        Requires(context) ? StreamAsync(context, c => continuation(request, responseStream, c)) : continuation(request, responseStream, context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Requires(context) ? StreamAsync(context, c => continuation(requestStream, responseStream, c)) : continuation(requestStream, responseStream, context);

    private async Task StreamAsync(ServerCallContext context, Func<ServerCallContext, Task> handler)
    {
        RefuseWithoutLeader();
        using var end = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        using var tracked = monitor.Track(end);
        bool EndedWithoutLeader() => tracked.Ended && !context.CancellationToken.IsCancellationRequested;
        try
        {
            await handler(new CancellableCallContext(context, end.Token)).ConfigureAwait(false);
        }
        catch (Exception) when (EndedWithoutLeader())
        {
            // Whatever the cancellation interrupted, the client hears why, as from etcd.
            throw EtcdErrors.NoLeader;
        }
        // Handlers end quietly when their call is cancelled (watch, keep-alive, observe).
        if (EndedWithoutLeader())
        {
            throw EtcdErrors.NoLeader;
        }
    }

    /// <summary>The call's context with a cancellation the gate can trigger; everything else is the call's own.</summary>
    private sealed class CancellableCallContext : ServerCallContext
    {
        /// <summary>Where ASP.NET Core's gRPC looks for the HttpContext of a context that is not its
        /// own (<c>GetHttpContext</c>: client certificates for auth, the gateway's peer address).</summary>
        private const string HttpContextKey = "__HttpContext";

        private readonly ServerCallContext _inner;
        private readonly CancellationToken _cancellation;

        public CancellableCallContext(ServerCallContext inner, CancellationToken cancellation)
        {
            _inner = inner;
            _cancellation = cancellation;
            if (!inner.UserState.ContainsKey(HttpContextKey))
            {
                inner.UserState[HttpContextKey] = inner.GetHttpContext();
            }
        }

        protected override string MethodCore => _inner.Method;

        protected override string HostCore => _inner.Host;

        protected override string PeerCore => _inner.Peer;

        protected override DateTime DeadlineCore => _inner.Deadline;

        protected override Metadata RequestHeadersCore => _inner.RequestHeaders;

        protected override CancellationToken CancellationTokenCore => _cancellation;

        protected override Metadata ResponseTrailersCore => _inner.ResponseTrailers;

        protected override Status StatusCore
        {
            get => _inner.Status;
            set => _inner.Status = value;
        }

        protected override WriteOptions? WriteOptionsCore
        {
            get => _inner.WriteOptions;
            set => _inner.WriteOptions = value;
        }

        protected override AuthContext AuthContextCore => _inner.AuthContext;

        protected override IDictionary<object, object> UserStateCore => _inner.UserState;

        protected override ContextPropagationToken CreatePropagationTokenCore(ContextPropagationOptions? options) =>
            _inner.CreatePropagationToken(options);

        protected override Task WriteResponseHeadersAsyncCore(Metadata responseHeaders) =>
            _inner.WriteResponseHeadersAsync(responseHeaders);
    }
}
