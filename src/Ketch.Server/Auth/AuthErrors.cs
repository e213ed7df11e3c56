using Grpc.Core;
using Ketch.Server.Api;

namespace Ketch.Server.Auth;

/// <summary>
/// etcd's auth errors with the status codes and exact texts of <c>api/v3rpc/rpctypes/error.go</c>
/// (clientv3 maps the text back to its typed errors, e.g. to re-authenticate on an invalid token).
/// </summary>
internal static class AuthErrors
{
    public static RpcException RootUserNotExist => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: root user does not exist");
    public static RpcException RootRoleNotExist => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: root user does not have root role");
    public static RpcException UserAlreadyExist => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: user name already exists");
    public static RpcException UserEmpty => EtcdErrors.Make(StatusCode.InvalidArgument, "etcdserver: user name is empty");
    public static RpcException UserNotFound => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: user name not found");
    public static RpcException RoleAlreadyExist => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: role name already exists");
    public static RpcException RoleNotFound => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: role name not found");
    public static RpcException RoleEmpty => EtcdErrors.Make(StatusCode.InvalidArgument, "etcdserver: role name is empty");
    public static RpcException AuthFailed => EtcdErrors.Make(StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
    /// <summary>A password given for a user added with <c>--no-password</c>: etcd has no gRPC code for
    /// it, so the client sees Unknown and the plain Go error text.</summary>
    public static RpcException NoPasswordUser => EtcdErrors.Make(StatusCode.Unknown, "auth: authentication failed, password was given for no password user");
    public static RpcException PermissionDenied => EtcdErrors.Make(StatusCode.PermissionDenied, "etcdserver: permission denied");
    public static RpcException RoleNotGranted => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: role is not granted to the user");
    public static RpcException PermissionNotGranted => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: permission is not granted to the role");
    public static RpcException PermissionNotGiven => EtcdErrors.Make(StatusCode.FailedPrecondition, "etcdserver: permission not given");
    public static RpcException NotEnabled => EtcdErrors.AuthNotEnabled;
    public static RpcException InvalidAuthToken => EtcdErrors.Make(StatusCode.Unauthenticated, "etcdserver: invalid auth token");
    public static RpcException OldRevision => EtcdErrors.Make(StatusCode.InvalidArgument, "etcdserver: revision of auth store is old");
    public static RpcException InvalidAuthMgmt => EtcdErrors.Make(StatusCode.InvalidArgument, "etcdserver: invalid auth management");

    /// <summary>
    /// etcd's Maintenance service returns the auth store's own errors unconverted, so clients see
    /// <c>Unknown</c> and the <c>auth: ...</c> text (e.g. <c>auth: permission denied</c>); we do the same.
    /// </summary>
    public static RpcException Raw(RpcException e) =>
        EtcdErrors.Make(StatusCode.Unknown, "auth: " + e.Status.Detail["etcdserver: ".Length..]);
}
