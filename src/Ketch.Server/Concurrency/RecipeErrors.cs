using Grpc.Core;
using Ketch.Server.Api;

namespace Ketch.Server.Concurrency;

/// <summary>
/// The errors of etcd's concurrency recipes as its v3election and v3lock servers return them:
/// plain Go errors, which gRPC sends as status Unknown with the error's text.
/// </summary>
internal static class RecipeErrors
{
    /// <summary><c>concurrency.ErrElectionNotLeader</c>: the leader key is gone or was re-created.</summary>
    public static RpcException NotLeader => EtcdErrors.Make(StatusCode.Unknown, "election: not leader");

    /// <summary><c>concurrency.ErrElectionNoLeader</c>: nobody holds the election.</summary>
    public static RpcException NoLeader => EtcdErrors.Make(StatusCode.Unknown, "election: no leader");

    /// <summary><c>v3election.ErrMissingLeaderKey</c>.</summary>
    public static RpcException MissingLeaderKey => EtcdErrors.Make(StatusCode.Unknown, "\"leader\" field must be provided");

    /// <summary><c>concurrency.ErrSessionExpired</c>: the waiter's key vanished (its lease expired) while it waited.</summary>
    public static RpcException SessionExpired => EtcdErrors.Make(StatusCode.Unknown, "mutex: session is expired");
}
