using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Authpb;
using Ketch.Api.Etcdserverpb;
using AuthService = Ketch.Api.Etcdserverpb.Auth;

namespace Ketch.Client;

/// <summary>The Auth service: enabling authentication, getting a token, users, roles and permissions.
/// <example><code>
/// await client.Auth.UserAddAsync("root", "secret");
/// await client.Auth.UserGrantRoleAsync("root", "root");
/// await client.Auth.EnableAsync();
/// await client.Auth.AuthenticateAsync("root", "secret"); // later calls carry the token
/// </code></example></summary>
public sealed class AuthClient
{
    private readonly Connection _conn;

    internal AuthClient(Connection conn)
    {
        _conn = conn;
        _conn.Auth.Login = LoginAsync;
        if (conn.Options.Username is { } user)
        {
            _conn.Auth.Credentials = (user, conn.Options.Password ?? "");
        }
    }

    private AuthService.AuthClient Stub(CallInvoker ci) => new(ci);

    /// <summary>Enables authentication (needs a <c>root</c> user with the <c>root</c> role).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthEnableResponse> EnableAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).AuthEnableAsync(new AuthEnableRequest(), o), Retry.IfNotSent, cancellationToken);

    /// <summary>Disables authentication.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthDisableResponse> DisableAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).AuthDisableAsync(new AuthDisableRequest(), o), Retry.IfNotSent, cancellationToken);

    /// <summary>Whether authentication is enabled, and the auth revision.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthStatusResponse> StatusAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).AuthStatusAsync(new AuthStatusRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Gets a token for <paramref name="user"/>; every later call of this client carries it,
    /// and it is renewed with the same credentials when the server no longer knows it.</summary>
    /// <param name="user">The user name.</param>
    /// <param name="password">Its password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response with the token.</returns>
    public async Task<AuthenticateResponse> AuthenticateAsync(string user, string password, CancellationToken cancellationToken = default)
    {
        var resp = await AuthenticateCoreAsync(user, password, cancellationToken).ConfigureAwait(false);
        _conn.Auth.Set(resp.Token, user, password);
        return resp;
    }

    private Task<AuthenticateResponse> AuthenticateCoreAsync(string user, string password, CancellationToken cancellationToken)
    {
        var request = new AuthenticateRequest { Name = user, Password = password };
        // Sent without the session (no token, no login first): this call is how the session starts.
        return UnaryWithoutSessionAsync(ci => Stub(ci), (s, o) => s.AuthenticateAsync(request, o), cancellationToken);
    }

    private async Task<string?> LoginAsync(string user, string password, CancellationToken cancellationToken)
    {
        try
        {
            return (await AuthenticateCoreAsync(user, password, cancellationToken).ConfigureAwait(false)).Token;
        }
        catch (RpcException ex) when (ex.Status.Detail == "etcdserver: authentication is not enabled")
        {
            // As clientv3: a server without auth is used without a token.
            return null;
        }
    }

    private async Task<T> UnaryWithoutSessionAsync<T>(Func<CallInvoker, AuthService.AuthClient> stub,
        Func<AuthService.AuthClient, CallOptions, AsyncUnaryCall<T>> call, CancellationToken cancellationToken)
    {
        var deadline = _conn.NewDeadline();
        for (var attempt = 0; ; attempt++)
        {
            var index = _conn.CurrentIndex;
            try
            {
                using var c = call(stub(_conn.Invoker(index)), new CallOptions(null, deadline, cancellationToken));
                return await c.ResponseAsync.ConfigureAwait(false);
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && attempt < _conn.Options.MaxRetries)
            {
                _conn.MarkFailed(index);
                await _conn.BackoffAsync(attempt, deadline, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Adds a user with a password.</summary>
    /// <param name="name">The user name.</param>
    /// <param name="password">Its password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserAddResponse> UserAddAsync(string name, string password, CancellationToken cancellationToken = default)
    {
        var request = new AuthUserAddRequest { Name = name, Password = password, Options = new UserAddOptions() };
        return _conn.UnaryAsync((ci, o) => Stub(ci).UserAddAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Adds a user that cannot authenticate with a password (etcd's <c>--no-password</c>).</summary>
    /// <param name="name">The user name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserAddResponse> UserAddNoPasswordAsync(string name, CancellationToken cancellationToken = default)
    {
        var request = new AuthUserAddRequest { Name = name, Options = new UserAddOptions { NoPassword = true } };
        return _conn.UnaryAsync((ci, o) => Stub(ci).UserAddAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>A user's roles.</summary>
    /// <param name="name">The user name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserGetResponse> UserGetAsync(string name, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).UserGetAsync(new AuthUserGetRequest { Name = name }, o), Retry.Safe, cancellationToken);

    /// <summary>Every user name, sorted.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserListResponse> UserListAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).UserListAsync(new AuthUserListRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Deletes a user.</summary>
    /// <param name="name">The user name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserDeleteResponse> UserDeleteAsync(string name, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).UserDeleteAsync(new AuthUserDeleteRequest { Name = name }, o), Retry.IfNotSent, cancellationToken);

    /// <summary>Changes a user's password (its tokens stop working).</summary>
    /// <param name="name">The user name.</param>
    /// <param name="password">The new password.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserChangePasswordResponse> UserChangePasswordAsync(string name, string password, CancellationToken cancellationToken = default)
    {
        var request = new AuthUserChangePasswordRequest { Name = name, Password = password };
        return _conn.UnaryAsync((ci, o) => Stub(ci).UserChangePasswordAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Grants a role to a user.</summary>
    /// <param name="user">The user name.</param>
    /// <param name="role">The role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserGrantRoleResponse> UserGrantRoleAsync(string user, string role, CancellationToken cancellationToken = default)
    {
        var request = new AuthUserGrantRoleRequest { User = user, Role = role };
        return _conn.UnaryAsync((ci, o) => Stub(ci).UserGrantRoleAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Revokes a role from a user.</summary>
    /// <param name="user">The user name.</param>
    /// <param name="role">The role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthUserRevokeRoleResponse> UserRevokeRoleAsync(string user, string role, CancellationToken cancellationToken = default)
    {
        var request = new AuthUserRevokeRoleRequest { Name = user, Role = role };
        return _conn.UnaryAsync((ci, o) => Stub(ci).UserRevokeRoleAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Adds a role.</summary>
    /// <param name="name">The role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleAddResponse> RoleAddAsync(string name, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).RoleAddAsync(new AuthRoleAddRequest { Name = name }, o), Retry.IfNotSent, cancellationToken);

    /// <summary>A role's permissions.</summary>
    /// <param name="name">The role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleGetResponse> RoleGetAsync(string name, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).RoleGetAsync(new AuthRoleGetRequest { Role = name }, o), Retry.Safe, cancellationToken);

    /// <summary>Every role name, sorted.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleListResponse> RoleListAsync(CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).RoleListAsync(new AuthRoleListRequest(), o), Retry.Safe, cancellationToken);

    /// <summary>Deletes a role (it leaves every user that had it).</summary>
    /// <param name="name">The role name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleDeleteResponse> RoleDeleteAsync(string name, CancellationToken cancellationToken = default) =>
        _conn.UnaryAsync((ci, o) => Stub(ci).RoleDeleteAsync(new AuthRoleDeleteRequest { Role = name }, o), Retry.IfNotSent, cancellationToken);

    /// <summary>Grants (or changes the type of) a permission on a key or range to a role.</summary>
    /// <param name="role">The role name.</param>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="rangeEnd">Empty for the key alone, the range's end (exclusive), or
    /// <see cref="KeyRange.FromKeyEnd"/>; for a prefix use <see cref="KeyRange.PrefixEnd"/>.</param>
    /// <param name="type">Read, write or both.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleGrantPermissionResponse> RoleGrantPermissionAsync(string role, ByteString key, ByteString rangeEnd, Permission.Types.Type type, CancellationToken cancellationToken = default)
    {
        var request = new AuthRoleGrantPermissionRequest
        {
            Name = role,
            Perm = new Permission { Key = key, RangeEnd = rangeEnd, PermType = type },
        };
        return _conn.UnaryAsync((ci, o) => Stub(ci).RoleGrantPermissionAsync(request, o), Retry.IfNotSent, cancellationToken);
    }

    /// <summary>Grants (or changes the type of) a permission on a UTF-8 key or range to a role.</summary>
    /// <param name="role">The role name.</param>
    /// <param name="key">The key, or the start of the range.</param>
    /// <param name="rangeEnd">Empty for the key alone, else the range's end (exclusive).</param>
    /// <param name="type">Read, write or both.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleGrantPermissionResponse> RoleGrantPermissionAsync(string role, string key, string rangeEnd, Permission.Types.Type type, CancellationToken cancellationToken = default) =>
        RoleGrantPermissionAsync(role, ByteString.CopyFromUtf8(key), ByteString.CopyFromUtf8(rangeEnd), type, cancellationToken);

    /// <summary>Revokes a role's permission on exactly this key or range.</summary>
    /// <param name="role">The role name.</param>
    /// <param name="key">The key it was granted on.</param>
    /// <param name="rangeEnd">The range end it was granted with (empty for a single key).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The response.</returns>
    public Task<AuthRoleRevokePermissionResponse> RoleRevokePermissionAsync(string role, ByteString key, ByteString rangeEnd, CancellationToken cancellationToken = default)
    {
        var request = new AuthRoleRevokePermissionRequest { Role = role, Key = key, RangeEnd = rangeEnd };
        return _conn.UnaryAsync((ci, o) => Stub(ci).RoleRevokePermissionAsync(request, o), Retry.IfNotSent, cancellationToken);
    }
}
