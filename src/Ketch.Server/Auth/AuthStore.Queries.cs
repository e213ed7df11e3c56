using Grpc.Core;
using Ketch.Api.Authpb;

namespace Ketch.Server.Auth;

/// <summary>The read side of the auth store: lookups, password checks and permission checks.</summary>
internal sealed partial class AuthStore
{
    public User? GetUser(string name)
    {
        lock (_lock)
        {
            return _users.TryGetValue(name, out var u) ? u.Clone() : null;
        }
    }

    public Role? GetRole(string name)
    {
        lock (_lock)
        {
            return _roles.TryGetValue(name, out var r) ? r.Clone() : null;
        }
    }

    public List<string> UserNames()
    {
        lock (_lock)
        {
            return [.. _users.Keys];
        }
    }

    public List<string> RoleNames()
    {
        lock (_lock)
        {
            return [.. _roles.Keys];
        }
    }

    public bool HasRole(string user, string role)
    {
        lock (_lock)
        {
            return _users.TryGetValue(user, out var u) && u.Roles.Contains(role);
        }
    }

    /// <summary>etcd's <c>CheckPassword</c>, run by the member that received Authenticate, off the
    /// Raft loop and outside the lock (hashing is deliberately slow).</summary>
    public RpcException? CheckPassword(string name, string password)
    {
        User? user;
        lock (_lock)
        {
            if (!_enabled)
            {
                return AuthErrors.NotEnabled;
            }
            user = _users.GetValueOrDefault(name);
        }
        if (user?.Options?.NoPassword == true)
        {
            return AuthErrors.NoPasswordUser;
        }
        if (user is null || !PasswordHash.Verify(password, user.Password.Span))
        {
            return AuthErrors.AuthFailed;
        }
        return null;
    }

    /// <summary>etcd's <c>IsAdminPermitted</c>: anything goes while auth is disabled; else the
    /// caller must hold the root role.</summary>
    public RpcException? CheckAdmin(AuthInfo? who)
    {
        lock (_lock)
        {
            if (!_enabled)
            {
                return null;
            }
            if (who is null || who.User.Length == 0)
            {
                return AuthErrors.UserEmpty;
            }
            if (!_users.TryGetValue(who.User, out var user))
            {
                return AuthErrors.UserNotFound;
            }
            return user.Roles.Contains(RootRole) ? null : AuthErrors.PermissionDenied;
        }
    }

    /// <summary>
    /// The re-check of a committed client request (etcd's <c>authApplierV3</c>), on the Raft loop
    /// before it is applied: the same questions as when it arrived, with the user and auth revision
    /// of its proposal, against the state every member has at this point of the log. Null: apply it.
    /// </summary>
    public RpcException? CheckEntry(RequestAuth sender, Apply.RaftRequestKind kind, ReadOnlySpan<byte> payload, Func<long, List<byte[]>> attachedKeys)
    {
        if (!Enabled)
        {
            return null;
        }
        // The header revision is at least 1 (the store's first), so it is always compared.
        var caller = sender.User.Length == 0 ? null : new AuthInfo(sender.User, Math.Max(sender.Revision, 1));
        return new RequestPermissions(this, attachedKeys).CheckEntry(kind, payload, caller);
    }

    /// <summary>
    /// etcd's <c>isOpPermitted</c> for <c>[key, rangeEnd)</c> (a single key when <paramref name="rangeEnd"/>
    /// is empty, open ended when it is <c>\0</c>): the union of the caller's roles' permissions of a
    /// matching type must cover the whole range. The root role may do anything. A caller bound to
    /// an auth revision older than the store's is refused as stale.
    /// </summary>
    public RpcException? CheckRange(AuthInfo? who, ReadOnlySpan<byte> key, ReadOnlySpan<byte> rangeEnd, Permission.Types.Type type)
    {
        lock (_lock)
        {
            if (!_enabled)
            {
                return null;
            }
            if (who is null || who.User.Length == 0)
            {
                return AuthErrors.UserEmpty;
            }
            if (who.Revision != 0 && who.Revision < _revision)
            {
                return AuthErrors.OldRevision;
            }
            if (!_users.TryGetValue(who.User, out var user))
            {
                return AuthErrors.PermissionDenied;
            }
            if (user.Roles.Contains(RootRole))
            {
                return null;
            }
            var perms = user.Roles
                .Select(r => _roles.GetValueOrDefault(r))
                .Where(r => r is not null)
                .SelectMany(r => r!.KeyPermission)
                .Where(p => p.PermType == Permission.Types.Type.Readwrite || p.PermType == type);
            return KeyRanges.Covers(perms, key, rangeEnd) ? null : AuthErrors.PermissionDenied;
        }
    }
}
