using System.Buffers.Binary;
using System.Text;
using Google.Protobuf;
using Ketch.Api.Authpb;
using Ketch.Mvcc;
using Ketch.Mvcc.Backend;
using Ketch.Raft;
using Ketch.Server.Apply;
using Rpc = Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Auth;

/// <summary>
/// Users, roles, permissions and the enabled flag of a member (etcd's <c>auth.authStore</c>).
/// Changes arrive as committed Raft entries and are written to the store's Auth bucket in the same
/// batch as the entry's consistent index, so a restart or a snapshot from the leader carries them;
/// every member reaches the same verdict. Bucket keys: <c>e</c> enabled flag, <c>v</c> auth
/// revision (uint64 BE), <c>u&lt;name&gt;</c> an <see cref="User"/>, <c>r&lt;name&gt;</c> a <see cref="Role"/>.
/// The auth revision counts changes (etcd's <c>commitRevision</c>), starting at 1.
/// </summary>
/// <param name="time">The clock of simple tokens.</param>
/// <param name="tokens">What tokens mean; simple tokens when null.</param>
/// <param name="bcryptCost">The cost of new password hashes (<c>--bcrypt-cost</c>, already checked
/// against <see cref="PasswordHash.MinCost"/>..<see cref="PasswordHash.MaxCost"/>).</param>
internal sealed partial class AuthStore(TimeProvider time, ITokenProvider? tokens = null, int bcryptCost = PasswordHash.DefaultCost)
{
    public const string RootUser = "root";
    public const string RootRole = "root";

    private static readonly byte[] s_enabledKey = "e"u8.ToArray();
    private static readonly byte[] s_revisionKey = "v"u8.ToArray();

    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, User> _users = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Role> _roles = new(StringComparer.Ordinal);
    private bool _enabled;
    private ulong _revision = 1;

    /// <summary>What tokens mean (<c>--auth-token</c>; simple tokens unless told otherwise).</summary>
    public ITokenProvider Tokens { get; } = tokens ?? new SimpleTokens(time);

    public bool Enabled
    {
        get
        {
            lock (_lock)
            {
                return _enabled;
            }
        }
    }

    /// <summary>The bcrypt cost of new password hashes.</summary>
    public int BcryptCost { get; } = bcryptCost;

    /// <summary>Hashes a new password on the member that received the request, before proposing (the
    /// entry's <c>hashed_password</c>, the field etcd 3.5 added for this), never on the Raft loop
    /// (cost 10 is ~100-200 ms here).</summary>
    public string HashPassword(string password) => PasswordHash.Hash(password, BcryptCost);

    public ulong Revision
    {
        get
        {
            lock (_lock)
            {
                return _revision;
            }
        }
    }

    /// <summary>Loads the bucket (at start and after a snapshot from the leader replaced the store).
    /// Tokens are forgotten, as after an etcd restart.</summary>
    public void Recover(KvStore kv)
    {
        lock (_lock)
        {
            _users.Clear();
            _roles.Clear();
            _enabled = false;
            _revision = 1;
            foreach (var (key, value) in kv.ReadBucket(BackendBucket.Auth))
            {
                switch ((char)key[0])
                {
                    case 'e':
                        _enabled = value.Length == 1 && value[0] == 1;
                        break;
                    case 'v':
                        _revision = BinaryPrimitives.ReadUInt64BigEndian(value);
                        break;
                    case 'u':
                        var u = User.Parser.ParseFrom(value);
                        _users[u.Name.ToStringUtf8()] = u;
                        break;
                    case 'r':
                        var r = Role.Parser.ParseFrom(value);
                        _roles[r.Name.ToStringUtf8()] = r;
                        break;
                }
            }
        }
        Tokens.Clear();
    }

    public static bool Handles(RaftRequestKind kind) => kind is >= RaftRequestKind.AuthEnable and <= RaftRequestKind.AuthRoleRevokePermission;

    /// <summary>Applies one committed auth entry; refusals are results, as every member must agree.</summary>
    public ApplyResult Apply(KvStore kv, Entry entry, RaftRequest request)
    {
        var p = request.Payload.Span;
        lock (_lock)
        {
            var result = request.Kind switch
            {
                RaftRequestKind.AuthEnable => Enable(kv),
                RaftRequestKind.AuthDisable => Disable(kv),
                RaftRequestKind.Authenticate => Authenticate(Rpc.AuthenticateRequest.Parser.ParseFrom(p), entry.Index),
                RaftRequestKind.AuthUserAdd => UserAdd(kv, Rpc.AuthUserAddRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthUserDelete => UserDelete(kv, Rpc.AuthUserDeleteRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthUserChangePassword => UserChangePassword(kv, Rpc.AuthUserChangePasswordRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthUserGrantRole => UserGrantRole(kv, Rpc.AuthUserGrantRoleRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthUserRevokeRole => UserRevokeRole(kv, Rpc.AuthUserRevokeRoleRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthRoleAdd => RoleAdd(kv, Rpc.AuthRoleAddRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthRoleDelete => RoleDelete(kv, Rpc.AuthRoleDeleteRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthRoleGrantPermission => RoleGrantPermission(kv, Rpc.AuthRoleGrantPermissionRequest.Parser.ParseFrom(p)),
                RaftRequestKind.AuthRoleRevokePermission => RoleRevokePermission(kv, Rpc.AuthRoleRevokePermissionRequest.Parser.ParseFrom(p)),
                _ => throw new InvalidOperationException($"not an auth request: {request.Kind}"),
            };
            if (result.Response is { } response && response.Descriptor.FindFieldByName("header") is { } field
                && field.Accessor.GetValue(response) is null)
            {
                field.Accessor.SetValue(response, new Rpc.ResponseHeader { Revision = kv.CurrentRevision });
            }
            return result;
        }
    }

    private ApplyResult Enable(KvStore kv)
    {
        if (_enabled)
        {
            return ApplyResult.Ok(new Rpc.AuthEnableResponse());
        }
        if (!_users.TryGetValue(RootUser, out var root))
        {
            return ApplyResult.Fail(AuthErrors.RootUserNotExist);
        }
        if (!root.Roles.Contains(RootRole))
        {
            return ApplyResult.Fail(AuthErrors.RootRoleNotExist);
        }
        _enabled = true;
        kv.PutBucketValue(BackendBucket.Auth, s_enabledKey, [1]);
        return ApplyResult.Ok(new Rpc.AuthEnableResponse());
    }

    private ApplyResult Disable(KvStore kv)
    {
        if (_enabled)
        {
            _enabled = false;
            kv.PutBucketValue(BackendBucket.Auth, s_enabledKey, [0]);
            CommitRevision(kv);
            Tokens.Clear();
        }
        return ApplyResult.Ok(new Rpc.AuthDisableResponse());
    }

    /// <summary>The password was checked by the member that received the request (hashing is slow
    /// and must not run on the Raft loop); <c>Password</c> carries the token's random prefix.</summary>
    private ApplyResult Authenticate(Rpc.AuthenticateRequest r, ulong index)
    {
        if (!_enabled)
        {
            return ApplyResult.Fail(AuthErrors.NotEnabled);
        }
        if (!_users.TryGetValue(r.Name, out var user) || user.Options?.NoPassword == true)
        {
            return ApplyResult.Fail(AuthErrors.AuthFailed);
        }
        if (Tokens is not SimpleTokens simple)
        {
            // A JWT is signed by the member that proposed the entry, once it is applied there (not
            // by every member on its Raft loop), with the auth revision of this point of the log.
            return ApplyResult.Authenticated(new Rpc.AuthenticateResponse(), _revision);
        }
        var token = $"{r.Password}.{index}";
        simple.Assign(token, r.Name);
        return ApplyResult.Ok(new Rpc.AuthenticateResponse { Token = token });
    }

    private ApplyResult UserAdd(KvStore kv, Rpc.AuthUserAddRequest r)
    {
        if (r.Name.Length == 0)
        {
            return ApplyResult.Fail(AuthErrors.UserEmpty);
        }
        if (_users.ContainsKey(r.Name))
        {
            return ApplyResult.Fail(AuthErrors.UserAlreadyExist);
        }
        var options = r.Options ?? new UserAddOptions();
        var user = new User { Name = ByteString.CopyFromUtf8(r.Name), Options = options };
        if (!options.NoPassword)
        {
            user.Password = ByteString.CopyFromUtf8(r.HashedPassword);
        }
        PutUser(kv, user);
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthUserAddResponse());
    }

    private ApplyResult UserDelete(KvStore kv, Rpc.AuthUserDeleteRequest r)
    {
        if (_enabled && r.Name == RootUser)
        {
            return ApplyResult.Fail(AuthErrors.InvalidAuthMgmt);
        }
        if (!_users.Remove(r.Name))
        {
            return ApplyResult.Fail(AuthErrors.UserNotFound);
        }
        kv.DeleteBucketValue(BackendBucket.Auth, UserKey(r.Name));
        CommitRevision(kv);
        Tokens.InvalidateUser(r.Name);
        return ApplyResult.Ok(new Rpc.AuthUserDeleteResponse());
    }

    private ApplyResult UserChangePassword(KvStore kv, Rpc.AuthUserChangePasswordRequest r)
    {
        if (!_users.TryGetValue(r.Name, out var user))
        {
            return ApplyResult.Fail(AuthErrors.UserNotFound);
        }
        var updated = user.Clone();
        if (user.Options?.NoPassword != true)
        {
            updated.Password = ByteString.CopyFromUtf8(r.HashedPassword);
        }
        PutUser(kv, updated);
        CommitRevision(kv);
        Tokens.InvalidateUser(r.Name);
        return ApplyResult.Ok(new Rpc.AuthUserChangePasswordResponse());
    }

    private ApplyResult UserGrantRole(KvStore kv, Rpc.AuthUserGrantRoleRequest r)
    {
        if (!_users.TryGetValue(r.User, out var user))
        {
            return ApplyResult.Fail(AuthErrors.UserNotFound);
        }
        // As etcd: the root role may be granted before it is created.
        if (r.Role != RootRole && !_roles.ContainsKey(r.Role))
        {
            return ApplyResult.Fail(AuthErrors.RoleNotFound);
        }
        if (user.Roles.Contains(r.Role))
        {
            return ApplyResult.Ok(new Rpc.AuthUserGrantRoleResponse());
        }
        var updated = user.Clone();
        var roles = updated.Roles.Append(r.Role).Order(StringComparer.Ordinal).ToList();
        updated.Roles.Clear();
        updated.Roles.AddRange(roles);
        PutUser(kv, updated);
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthUserGrantRoleResponse());
    }

    private ApplyResult UserRevokeRole(KvStore kv, Rpc.AuthUserRevokeRoleRequest r)
    {
        if (_enabled && r.Name == RootUser && r.Role == RootRole)
        {
            return ApplyResult.Fail(AuthErrors.InvalidAuthMgmt);
        }
        if (!_users.TryGetValue(r.Name, out var user))
        {
            return ApplyResult.Fail(AuthErrors.UserNotFound);
        }
        if (!user.Roles.Contains(r.Role))
        {
            return ApplyResult.Fail(AuthErrors.RoleNotGranted);
        }
        var updated = user.Clone();
        updated.Roles.Remove(r.Role);
        PutUser(kv, updated);
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthUserRevokeRoleResponse());
    }

    private ApplyResult RoleAdd(KvStore kv, Rpc.AuthRoleAddRequest r)
    {
        if (r.Name.Length == 0)
        {
            return ApplyResult.Fail(AuthErrors.RoleEmpty);
        }
        if (_roles.ContainsKey(r.Name))
        {
            return ApplyResult.Fail(AuthErrors.RoleAlreadyExist);
        }
        PutRole(kv, new Role { Name = ByteString.CopyFromUtf8(r.Name) });
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthRoleAddResponse());
    }

    private ApplyResult RoleDelete(KvStore kv, Rpc.AuthRoleDeleteRequest r)
    {
        if (_enabled && r.Role == RootRole)
        {
            return ApplyResult.Fail(AuthErrors.InvalidAuthMgmt);
        }
        if (!_roles.Remove(r.Role))
        {
            return ApplyResult.Fail(AuthErrors.RoleNotFound);
        }
        kv.DeleteBucketValue(BackendBucket.Auth, RoleKey(r.Role));
        // The role leaves every user that had it.
        foreach (var user in _users.Values.Where(u => u.Roles.Contains(r.Role)).ToList())
        {
            var updated = user.Clone();
            updated.Roles.Remove(r.Role);
            PutUser(kv, updated);
        }
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthRoleDeleteResponse());
    }

    private ApplyResult RoleGrantPermission(KvStore kv, Rpc.AuthRoleGrantPermissionRequest r)
    {
        if (r.Perm is null)
        {
            return ApplyResult.Fail(AuthErrors.PermissionNotGiven);
        }
        if (!IsValidRange(r.Perm.Key.Span, r.Perm.RangeEnd.Span))
        {
            return ApplyResult.Fail(AuthErrors.InvalidAuthMgmt);
        }
        if (!_roles.TryGetValue(r.Name, out var role))
        {
            return ApplyResult.Fail(AuthErrors.RoleNotFound);
        }
        var updated = role.Clone();
        // Same key and range end: the type is updated; otherwise added, the list kept sorted by key.
        var same = updated.KeyPermission.FirstOrDefault(p => p.Key == r.Perm.Key && p.RangeEnd == r.Perm.RangeEnd);
        if (same is not null)
        {
            same.PermType = r.Perm.PermType;
        }
        else
        {
            var perms = updated.KeyPermission.Append(r.Perm.Clone())
                .OrderBy(p => p.Key.ToByteArray(), ByteArrayComparer.Instance).ToList();
            updated.KeyPermission.Clear();
            updated.KeyPermission.AddRange(perms);
        }
        PutRole(kv, updated);
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthRoleGrantPermissionResponse());
    }

    private ApplyResult RoleRevokePermission(KvStore kv, Rpc.AuthRoleRevokePermissionRequest r)
    {
        if (!_roles.TryGetValue(r.Role, out var role))
        {
            return ApplyResult.Fail(AuthErrors.RoleNotFound);
        }
        var updated = role.Clone();
        var kept = updated.KeyPermission.Where(p => p.Key != r.Key || p.RangeEnd != r.RangeEnd).ToList();
        if (kept.Count == updated.KeyPermission.Count)
        {
            return ApplyResult.Fail(AuthErrors.PermissionNotGranted);
        }
        updated.KeyPermission.Clear();
        updated.KeyPermission.AddRange(kept);
        PutRole(kv, updated);
        CommitRevision(kv);
        return ApplyResult.Ok(new Rpc.AuthRoleRevokePermissionResponse());
    }

    /// <summary>etcd's <c>isValidPermissionRange</c>: a single key, an open end (<c>\0</c>), or key &lt; end.</summary>
    private static bool IsValidRange(ReadOnlySpan<byte> key, ReadOnlySpan<byte> end) =>
        end.Length == 0 || (end.Length == 1 && end[0] == 0) || key.SequenceCompareTo(end) < 0;

    private void PutUser(KvStore kv, User user)
    {
        var name = user.Name.ToStringUtf8();
        _users[name] = user;
        kv.PutBucketValue(BackendBucket.Auth, UserKey(name), user.ToByteArray());
    }

    private void PutRole(KvStore kv, Role role)
    {
        var name = role.Name.ToStringUtf8();
        _roles[name] = role;
        kv.PutBucketValue(BackendBucket.Auth, RoleKey(name), role.ToByteArray());
    }

    private void CommitRevision(KvStore kv)
    {
        _revision++;
        var v = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(v, _revision);
        kv.PutBucketValue(BackendBucket.Auth, s_revisionKey, v);
    }

    private static byte[] UserKey(string name) => [(byte)'u', .. Encoding.UTF8.GetBytes(name)];

    private static byte[] RoleKey(string name) => [(byte)'r', .. Encoding.UTF8.GetBytes(name)];

    /// <summary>Lexicographic order of keys, as etcd sorts permissions.</summary>
    private sealed class ByteArrayComparer : IComparer<byte[]>
    {
        public static readonly ByteArrayComparer Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
