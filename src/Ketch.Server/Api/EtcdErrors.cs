using Grpc.Core;
using Ketch.Mvcc;

namespace Ketch.Server.Api;

/// <summary>
/// etcd's client-visible errors: the gRPC status code and the exact text of etcd's
/// <c>api/v3rpc/rpctypes/error.go</c> (clients match on the text).
/// </summary>
internal static class EtcdErrors
{
    public static RpcException EmptyKey => Make(StatusCode.InvalidArgument, "etcdserver: key is not provided");
    public static RpcException TooManyOps => Make(StatusCode.InvalidArgument, "etcdserver: too many operations in txn request");
    public static RpcException RequestTooLarge => Make(StatusCode.InvalidArgument, "etcdserver: request is too large");
    public static RpcException TooManyRequests => Make(StatusCode.ResourceExhausted, "etcdserver: too many requests");
    public static RpcException NoSpace => Make(StatusCode.ResourceExhausted, "etcdserver: mvcc: database space exceeded");
    public static RpcException Corrupt => Make(StatusCode.DataLoss, "etcdserver: corrupt cluster");
    public static RpcException LeaseNotFound => Make(StatusCode.NotFound, "etcdserver: requested lease not found");
    public static RpcException LeaseExists => Make(StatusCode.FailedPrecondition, "etcdserver: lease already exists");
    public static RpcException LeaseTtlTooLarge => Make(StatusCode.OutOfRange, "etcdserver: too large lease TTL");
    public static RpcException NoLeader => Make(StatusCode.Unavailable, "etcdserver: no leader");
    public static RpcException NotLeader => Make(StatusCode.FailedPrecondition, "etcdserver: not leader");
    public static RpcException LeaderChanged => Make(StatusCode.Unavailable, "etcdserver: leader changed");
    public static RpcException Stopped => Make(StatusCode.Unavailable, "etcdserver: server stopped");
    public static RpcException Timeout => Make(StatusCode.Unavailable, "etcdserver: request timed out");
    public static RpcException MemberExists => Make(StatusCode.FailedPrecondition, "etcdserver: member ID already exist");
    public static RpcException PeerUrlExists => Make(StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists");
    public static RpcException MemberNotFound => Make(StatusCode.NotFound, "etcdserver: member not found");
    public static RpcException MemberBadUrls => Make(StatusCode.InvalidArgument, "etcdserver: given member URLs are invalid");
    public static RpcException MemberNotLearner => Make(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member");
    public static RpcException LearnerNotReady => Make(StatusCode.FailedPrecondition, "etcdserver: can only promote a learner member which is in sync with leader");
    public static RpcException TooManyLearners => Make(StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster");
    public static RpcException NotSupportedForLearner => Make(StatusCode.Unavailable, "etcdserver: rpc not supported for learner");
    public static RpcException Unhealthy => Make(StatusCode.Unavailable, "etcdserver: unhealthy cluster");
    public static RpcException NotEnoughStarted => Make(StatusCode.FailedPrecondition, "etcdserver: re-configuration failed due to not enough started members");
    public static RpcException BadLeaderTransferee => Make(StatusCode.FailedPrecondition, "etcdserver: bad leader transferee");
    public static RpcException KeyNotFound => Make(StatusCode.InvalidArgument, "etcdserver: key not found");
    public static RpcException InvalidCompare => Make(StatusCode.InvalidArgument, "etcdserver: invalid compare target or result");
    public static RpcException InvalidSortOption => Make(StatusCode.InvalidArgument, "etcdserver: invalid sort option");
    public static RpcException AuthNotEnabled => Make(StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");
    public static RpcException NotCapable => Make(StatusCode.Unavailable, "etcdserver: not capable");

    /// <summary>The caller gave up: what etcd's gRPC layer returns for a cancelled context.</summary>
    public static RpcException Canceled => Make(StatusCode.Cancelled, "context canceled");

    /// <summary>Maps an MVCC failure to etcd's status code (compaction errors are OutOfRange).</summary>
    public static RpcException From(MvccException e) => e.Error switch
    {
        MvccError.Compacted or MvccError.FutureRevision => Make(StatusCode.OutOfRange, e.Message),
        MvccError.LeaseNotFound => LeaseNotFound,
        _ => Make(StatusCode.InvalidArgument, e.Message),
    };

    public static RpcException Make(StatusCode code, string text) => new(new Status(code, text), text);
}
