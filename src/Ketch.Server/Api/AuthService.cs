using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Apply;
using Ketch.Server.Auth;

namespace Ketch.Server.Api;

/// <summary>
/// etcd's Auth service. Changes go through Raft (<see cref="AuthStore"/> applies them on every
/// member); passwords are hashed here, before proposing, so the log carries only hashes. Reads
/// (status, user/role get and list) are served from the local store after a linearizable read
/// point. Who may call what follows etcd: everything needs the root role while auth is enabled,
/// except a user reading itself and the roles it has.
/// </summary>
internal sealed class AuthService(MemberContext member) : Ketch.Api.Etcdserverpb.Auth.AuthBase
{
    private AuthStore Store => member.Loop.Auth;

    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) =>
        ProposeAsync<AuthEnableResponse>(RaftRequestKind.AuthEnable, request, context);

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context) =>
        ProposeAsync<AuthDisableResponse>(RaftRequestKind.AuthDisable, request, context);

    public override async Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context)
    {
        await ReadAsync(context).ConfigureAwait(false);
        return new AuthStatusResponse { Header = member.Header(), Enabled = Store.Enabled, AuthRevision = Store.Revision };
    }

    public override async Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context)
    {
        // Checked here, off the Raft loop (hashing is slow); the entry carries the token's random
        // prefix in place of the password, so every member learns the same token.
        if (Store.CheckPassword(request.Name, request.Password) is { } error)
        {
            throw error;
        }
        var entry = new AuthenticateRequest { Name = request.Name, Password = SimpleTokens.NewPrefix() };
        var resp = await member.ProposeAsync<AuthenticateResponse>(RaftRequestKind.Authenticate, entry, context.CancellationToken).ConfigureAwait(false);
        member.FillHeader(resp.Header);
        return resp;
    }

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context)
    {
        var entry = request.Clone();
        if (entry.Options?.NoPassword != true && entry.HashedPassword.Length == 0)
        {
            entry.HashedPassword = PasswordHash.Hash(entry.Password);
        }
        entry.Password = "";
        return ProposeAsync<AuthUserAddResponse>(RaftRequestKind.AuthUserAdd, entry, context);
    }

    public override async Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context)
    {
        // A user may read itself.
        if (Store.CheckAdmin(AuthInterceptor.Caller(context)) is { } denied && AuthInterceptor.Caller(context)?.User != request.Name)
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(context.CancellationToken).ConfigureAwait(false);
        var user = Store.GetUser(request.Name) ?? throw AuthErrors.UserNotFound;
        var resp = new AuthUserGetResponse { Header = member.Header() };
        resp.Roles.AddRange(user.Roles);
        return resp;
    }

    public override async Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context)
    {
        await ReadAsync(context).ConfigureAwait(false);
        var resp = new AuthUserListResponse { Header = member.Header() };
        resp.Users.AddRange(Store.UserNames());
        return resp;
    }

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserDeleteResponse>(RaftRequestKind.AuthUserDelete, request, context);

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context)
    {
        var entry = request.Clone();
        if (entry.HashedPassword.Length == 0)
        {
            entry.HashedPassword = PasswordHash.Hash(entry.Password);
        }
        entry.Password = "";
        return ProposeAsync<AuthUserChangePasswordResponse>(RaftRequestKind.AuthUserChangePassword, entry, context);
    }

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserGrantRoleResponse>(RaftRequestKind.AuthUserGrantRole, request, context);

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        ProposeAsync<AuthUserRevokeRoleResponse>(RaftRequestKind.AuthUserRevokeRole, request, context);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleAddResponse>(RaftRequestKind.AuthRoleAdd, request, context);

    public override async Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context)
    {
        // A user may read the roles it has.
        var caller = AuthInterceptor.Caller(context);
        if (Store.CheckAdmin(caller) is { } denied && (caller is null || !Store.HasRole(caller.User, request.Role)))
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(context.CancellationToken).ConfigureAwait(false);
        var role = Store.GetRole(request.Role) ?? throw AuthErrors.RoleNotFound;
        var resp = new AuthRoleGetResponse { Header = member.Header() };
        resp.Perm.AddRange(role.KeyPermission);
        return resp;
    }

    public override async Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context)
    {
        await ReadAsync(context).ConfigureAwait(false);
        var resp = new AuthRoleListResponse { Header = member.Header() };
        resp.Roles.AddRange(Store.RoleNames());
        return resp;
    }

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleDeleteResponse>(RaftRequestKind.AuthRoleDelete, request, context);

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleGrantPermissionResponse>(RaftRequestKind.AuthRoleGrantPermission, request, context);

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) =>
        ProposeAsync<AuthRoleRevokePermissionResponse>(RaftRequestKind.AuthRoleRevokePermission, request, context);

    /// <summary>An admin-only change: checked, proposed, applied, header filled.</summary>
    private async Task<T> ProposeAsync<T>(RaftRequestKind kind, IMessage request, ServerCallContext context)
        where T : class, IMessage
    {
        if (Store.CheckAdmin(AuthInterceptor.Caller(context)) is { } denied)
        {
            throw denied;
        }
        member.CheckSize(request);
        var resp = await member.ProposeAsync<T>(kind, request, context.CancellationToken).ConfigureAwait(false);
        member.FillHeader((ResponseHeader?)resp.Descriptor.FindFieldByName("header")?.Accessor.GetValue(resp));
        return resp;
    }

    /// <summary>An admin-only read: checked, then served once this member applied everything committed.</summary>
    private async Task ReadAsync(ServerCallContext context)
    {
        if (Store.CheckAdmin(AuthInterceptor.Caller(context)) is { } denied)
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(context.CancellationToken).ConfigureAwait(false);
    }
}
