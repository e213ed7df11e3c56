using Grpc.Core;
using Grpc.Core.Interceptors;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Api;

/// <summary>
/// What a learner serves, as etcd's: only <c>Status</c> and serializable ranges. Everything else,
/// streams included, is refused with Unavailable <c>etcdserver: rpc not supported for learner</c>,
/// which tells a client to use another endpoint (clientv3 does): a learner has no vote, may lag the
/// log by any amount, and is not where writes, linearizable reads or watches belong. The gRPC calls
/// go through <see cref="LearnerGate"/> as an interceptor ahead of auth (as etcd's interceptor
/// comes before its auth checks); the JSON gateway asks <see cref="Refuses"/> itself.
/// </summary>
internal sealed class LearnerGate(MemberContext member) : Interceptor
{
    /// <summary>Whether this member, being a learner, must refuse <paramref name="request"/>
    /// (null: a streaming call, refused on a learner whatever its first message).</summary>
    public static bool Refuses(MemberContext member, object? request) =>
        request is not (StatusRequest or RangeRequest { Serializable: true })
        && member.Loop.Membership.Get(member.Loop.MemberId) is { IsLearner: true };

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        Refuses(member, request) ? throw EtcdErrors.NotSupportedForLearner : continuation(request, context);

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        Refuses(member, null) ? throw EtcdErrors.NotSupportedForLearner : continuation(request, responseStream, context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        Refuses(member, null) ? throw EtcdErrors.NotSupportedForLearner : continuation(requestStream, responseStream, context);
}
