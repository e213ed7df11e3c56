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
/// except a user reading itself and the roles it has. Each call is a static method taking the caller,
/// which the JSON gateway (<c>/v3/auth/*</c>) calls too, with the caller of its <c>Authorization</c> header.
/// </summary>
internal sealed class AuthService(MemberContext member) : Ketch.Api.Etcdserverpb.Auth.AuthBase
{
    public override Task<AuthEnableResponse> AuthEnable(AuthEnableRequest request, ServerCallContext context) =>
        EnableAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthDisableResponse> AuthDisable(AuthDisableRequest request, ServerCallContext context) =>
        DisableAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthStatusResponse> AuthStatus(AuthStatusRequest request, ServerCallContext context) =>
        StatusAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthenticateResponse> Authenticate(AuthenticateRequest request, ServerCallContext context) =>
        AuthenticateAsync(member, request, null, context.CancellationToken);

    public override Task<AuthUserAddResponse> UserAdd(AuthUserAddRequest request, ServerCallContext context) =>
        UserAddAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserGetResponse> UserGet(AuthUserGetRequest request, ServerCallContext context) =>
        UserGetAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserListResponse> UserList(AuthUserListRequest request, ServerCallContext context) =>
        UserListAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserDeleteResponse> UserDelete(AuthUserDeleteRequest request, ServerCallContext context) =>
        UserDeleteAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserChangePasswordResponse> UserChangePassword(AuthUserChangePasswordRequest request, ServerCallContext context) =>
        UserChangePasswordAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserGrantRoleResponse> UserGrantRole(AuthUserGrantRoleRequest request, ServerCallContext context) =>
        UserGrantRoleAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthUserRevokeRoleResponse> UserRevokeRole(AuthUserRevokeRoleRequest request, ServerCallContext context) =>
        UserRevokeRoleAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleAddResponse> RoleAdd(AuthRoleAddRequest request, ServerCallContext context) =>
        RoleAddAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleGetResponse> RoleGet(AuthRoleGetRequest request, ServerCallContext context) =>
        RoleGetAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleListResponse> RoleList(AuthRoleListRequest request, ServerCallContext context) =>
        RoleListAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleDeleteResponse> RoleDelete(AuthRoleDeleteRequest request, ServerCallContext context) =>
        RoleDeleteAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleGrantPermissionResponse> RoleGrantPermission(AuthRoleGrantPermissionRequest request, ServerCallContext context) =>
        RoleGrantPermissionAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    public override Task<AuthRoleRevokePermissionResponse> RoleRevokePermission(AuthRoleRevokePermissionRequest request, ServerCallContext context) =>
        RoleRevokePermissionAsync(member, request, AuthInterceptor.Caller(context), context.CancellationToken);

    internal static Task<AuthEnableResponse> EnableAsync(MemberContext member, AuthEnableRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthEnableResponse>(member, RaftRequestKind.AuthEnable, request, caller, ct);

    internal static Task<AuthDisableResponse> DisableAsync(MemberContext member, AuthDisableRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthDisableResponse>(member, RaftRequestKind.AuthDisable, request, caller, ct);

    internal static async Task<AuthStatusResponse> StatusAsync(MemberContext member, AuthStatusRequest request, AuthInfo? caller, CancellationToken ct)
    {
        await ReadAsync(member, caller, ct).ConfigureAwait(false);
        var store = member.Loop.Auth;
        return new AuthStatusResponse { Header = member.Header(), Enabled = store.Enabled, AuthRevision = store.Revision };
    }

    /// <summary>The password is checked here, off the Raft loop (hashing is slow); the entry
    /// carries a simple token's random prefix in place of the password, so every member learns the
    /// same token. A JWT is signed here once the entry is applied, with the auth revision it was
    /// applied at.</summary>
    internal static async Task<AuthenticateResponse> AuthenticateAsync(MemberContext member, AuthenticateRequest request, AuthInfo? caller, CancellationToken ct)
    {
        var store = member.Loop.Auth;
        if (store.CheckPassword(request.Name, request.Password) is { } error)
        {
            throw error;
        }
        var jwt = store.Tokens as JwtTokens;
        if (jwt is { CanSign: false })
        {
            throw JwtTokens.VerifyOnly;
        }
        var entry = new AuthenticateRequest { Name = request.Name, Password = jwt is null ? SimpleTokens.NewPrefix() : "" };
        var result = await member.Loop.ProposeAsync(RaftRequestKind.Authenticate, entry, ct).ConfigureAwait(false);
        var resp = result.Get<AuthenticateResponse>();
        member.Metrics.ProposalsCommitted();
        if (jwt is not null)
        {
            resp.Token = jwt.Sign(request.Name, result.AuthRevision);
        }
        member.FillHeader(resp.Header);
        return resp;
    }

    internal static Task<AuthUserAddResponse> UserAddAsync(MemberContext member, AuthUserAddRequest request, AuthInfo? caller, CancellationToken ct)
    {
        var entry = request.Clone();
        if (entry.Options?.NoPassword != true && entry.HashedPassword.Length == 0)
        {
            entry.HashedPassword = member.Loop.Auth.HashPassword(entry.Password);
        }
        entry.Password = "";
        return ProposeAsync<AuthUserAddResponse>(member, RaftRequestKind.AuthUserAdd, entry, caller, ct);
    }

    internal static async Task<AuthUserGetResponse> UserGetAsync(MemberContext member, AuthUserGetRequest request, AuthInfo? caller, CancellationToken ct)
    {
        var store = member.Loop.Auth;
        // A user may read itself.
        if (store.CheckAdmin(caller) is { } denied && caller?.User != request.Name)
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
        var user = store.GetUser(request.Name) ?? throw AuthErrors.UserNotFound;
        var resp = new AuthUserGetResponse { Header = member.Header() };
        resp.Roles.AddRange(user.Roles);
        return resp;
    }

    internal static async Task<AuthUserListResponse> UserListAsync(MemberContext member, AuthUserListRequest request, AuthInfo? caller, CancellationToken ct)
    {
        await ReadAsync(member, caller, ct).ConfigureAwait(false);
        var resp = new AuthUserListResponse { Header = member.Header() };
        resp.Users.AddRange(member.Loop.Auth.UserNames());
        return resp;
    }

    internal static Task<AuthUserDeleteResponse> UserDeleteAsync(MemberContext member, AuthUserDeleteRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthUserDeleteResponse>(member, RaftRequestKind.AuthUserDelete, request, caller, ct);

    internal static Task<AuthUserChangePasswordResponse> UserChangePasswordAsync(MemberContext member, AuthUserChangePasswordRequest request, AuthInfo? caller, CancellationToken ct)
    {
        var entry = request.Clone();
        if (entry.HashedPassword.Length == 0)
        {
            entry.HashedPassword = member.Loop.Auth.HashPassword(entry.Password);
        }
        entry.Password = "";
        return ProposeAsync<AuthUserChangePasswordResponse>(member, RaftRequestKind.AuthUserChangePassword, entry, caller, ct);
    }

    internal static Task<AuthUserGrantRoleResponse> UserGrantRoleAsync(MemberContext member, AuthUserGrantRoleRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthUserGrantRoleResponse>(member, RaftRequestKind.AuthUserGrantRole, request, caller, ct);

    internal static Task<AuthUserRevokeRoleResponse> UserRevokeRoleAsync(MemberContext member, AuthUserRevokeRoleRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthUserRevokeRoleResponse>(member, RaftRequestKind.AuthUserRevokeRole, request, caller, ct);

    internal static Task<AuthRoleAddResponse> RoleAddAsync(MemberContext member, AuthRoleAddRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthRoleAddResponse>(member, RaftRequestKind.AuthRoleAdd, request, caller, ct);

    internal static async Task<AuthRoleGetResponse> RoleGetAsync(MemberContext member, AuthRoleGetRequest request, AuthInfo? caller, CancellationToken ct)
    {
        var store = member.Loop.Auth;
        // A user may read the roles it has.
        if (store.CheckAdmin(caller) is { } denied && (caller is null || !store.HasRole(caller.User, request.Role)))
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
        var role = store.GetRole(request.Role) ?? throw AuthErrors.RoleNotFound;
        var resp = new AuthRoleGetResponse { Header = member.Header() };
        resp.Perm.AddRange(role.KeyPermission);
        return resp;
    }

    internal static async Task<AuthRoleListResponse> RoleListAsync(MemberContext member, AuthRoleListRequest request, AuthInfo? caller, CancellationToken ct)
    {
        await ReadAsync(member, caller, ct).ConfigureAwait(false);
        var resp = new AuthRoleListResponse { Header = member.Header() };
        resp.Roles.AddRange(member.Loop.Auth.RoleNames());
        return resp;
    }

    internal static Task<AuthRoleDeleteResponse> RoleDeleteAsync(MemberContext member, AuthRoleDeleteRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthRoleDeleteResponse>(member, RaftRequestKind.AuthRoleDelete, request, caller, ct);

    internal static Task<AuthRoleGrantPermissionResponse> RoleGrantPermissionAsync(MemberContext member, AuthRoleGrantPermissionRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthRoleGrantPermissionResponse>(member, RaftRequestKind.AuthRoleGrantPermission, request, caller, ct);

    internal static Task<AuthRoleRevokePermissionResponse> RoleRevokePermissionAsync(MemberContext member, AuthRoleRevokePermissionRequest request, AuthInfo? caller, CancellationToken ct) =>
        ProposeAsync<AuthRoleRevokePermissionResponse>(member, RaftRequestKind.AuthRoleRevokePermission, request, caller, ct);

    /// <summary>An admin-only change: checked, proposed (checked again at apply), applied, header filled.</summary>
    private static async Task<T> ProposeAsync<T>(MemberContext member, RaftRequestKind kind, IMessage request, AuthInfo? caller, CancellationToken ct)
        where T : class, IMessage
    {
        if (member.Loop.Auth.CheckAdmin(caller) is { } denied)
        {
            throw denied;
        }
        member.CheckSize(request);
        var resp = await member.ProposeAsync<T>(kind, request, ct).ConfigureAwait(false);
        member.FillHeader((ResponseHeader?)resp.Descriptor.FindFieldByName("header")?.Accessor.GetValue(resp));
        return resp;
    }

    /// <summary>An admin-only read: checked, then served once this member applied everything committed.</summary>
    private static async Task ReadAsync(MemberContext member, AuthInfo? caller, CancellationToken ct)
    {
        if (member.Loop.Auth.CheckAdmin(caller) is { } denied)
        {
            throw denied;
        }
        await member.Loop.WaitLinearizableAsync(ct).ConfigureAwait(false);
    }
}
