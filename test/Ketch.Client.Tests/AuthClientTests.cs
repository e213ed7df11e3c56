using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Authpb;
using Ketch.Testing;
using Xunit;

namespace Ketch.Client.Tests;

/// <summary>The Auth surface of the client against one member; abstract over the server.</summary>
public abstract class AuthClientTests : IAsyncLifetime
{
    private ITestCluster? _cluster;

    protected abstract IClusterProvider Provider { get; }

    /// <summary>AuthStatus is etcd 3.5's; the reference etcd is 3.4.</summary>
    protected virtual bool HasAuthStatus => true;

    public async Task InitializeAsync() => _cluster = await Provider.StartAsync(1);

    public async Task DisposeAsync()
    {
        if (_cluster is not null)
        {
            await _cluster.DisposeAsync();
        }
    }

    private KetchClient NewClient(string? user = null, string? password = null) => new(new KetchClientOptions
    {
        Endpoints = _cluster!.Endpoints,
        RequestTimeout = TimeSpan.FromSeconds(10),
        Username = user,
        Password = password,
    });

    [Fact]
    public async Task Users_roles_enable_and_authenticated_requests()
    {
        await using var admin = NewClient();
        await admin.Auth.UserAddAsync("root", "rootpw");
        await admin.Auth.UserGrantRoleAsync("root", "root");
        await admin.Auth.RoleAddAsync("apps");
        await admin.Auth.RoleGrantPermissionAsync("apps", ByteString.CopyFromUtf8("app/"), KeyRange.PrefixEnd(ByteString.CopyFromUtf8("app/")), Permission.Types.Type.Readwrite);
        await admin.Auth.UserAddAsync("alice", "apw");
        await admin.Auth.UserGrantRoleAsync("alice", "apps");
        Assert.Equal(["alice", "root"], (await admin.Auth.UserListAsync()).Users);
        // As etcd: the root role may be granted without being created.
        Assert.Equal(["apps"], (await admin.Auth.RoleListAsync()).Roles);
        Assert.Equal(["apps"], (await admin.Auth.UserGetAsync("alice")).Roles);
        var perm = Assert.Single((await admin.Auth.RoleGetAsync("apps")).Perm);
        Assert.Equal("app0", perm.RangeEnd.ToStringUtf8());
        var ex = await Assert.ThrowsAsync<RpcException>(() => admin.Auth.UserAddAsync("alice", "x"));
        Assert.Equal("etcdserver: user name already exists", ex.Status.Detail);

        await admin.Auth.EnableAsync();

        // No credentials: the empty user.
        ex = await Assert.ThrowsAsync<RpcException>(() => admin.Kv.PutAsync("app/1", "v"));
        Assert.Equal("etcdserver: user name is empty", ex.Status.Detail);
        // Credentials in the options: the client logs in before its first request.
        await using var alice = NewClient("alice", "apw");
        await alice.Kv.PutAsync("app/1", "v");
        Assert.Equal(1, (await alice.Kv.GetAsync("app/1")).Count);
        ex = await Assert.ThrowsAsync<RpcException>(() => alice.Kv.PutAsync("other", "v"));
        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Equal("etcdserver: permission denied", ex.Status.Detail);
        ex = await Assert.ThrowsAsync<RpcException>(() => alice.Auth.UserListAsync());
        Assert.Equal("etcdserver: permission denied", ex.Status.Detail);
        // Wrong password.
        await using var wrong = NewClient("alice", "nope");
        ex = await Assert.ThrowsAsync<RpcException>(() => wrong.Kv.GetAsync("app/1"));
        Assert.Equal("etcdserver: authentication failed, invalid user ID or password", ex.Status.Detail);
        // An explicit login switches the client to that user.
        var token = await admin.Auth.AuthenticateAsync("root", "rootpw");
        Assert.False(string.IsNullOrEmpty(token.Token));
        await admin.Kv.PutAsync("other", "v");
        Assert.True(!HasAuthStatus || (await admin.Auth.StatusAsync()).Enabled);

        // A changed password ends alice's token; her client cannot renew it with the old one.
        await admin.Auth.UserChangePasswordAsync("alice", "apw2");
        ex = await Assert.ThrowsAsync<RpcException>(() => alice.Kv.GetAsync("app/1"));
        Assert.Equal("etcdserver: authentication failed, invalid user ID or password", ex.Status.Detail);

        await admin.Auth.RoleRevokePermissionAsync("apps", ByteString.CopyFromUtf8("app/"), KeyRange.PrefixEnd(ByteString.CopyFromUtf8("app/")));
        Assert.Empty((await admin.Auth.RoleGetAsync("apps")).Perm);
        await admin.Auth.UserRevokeRoleAsync("alice", "apps");
        await admin.Auth.RoleDeleteAsync("apps");
        await admin.Auth.UserDeleteAsync("alice");
        await admin.Auth.DisableAsync();
        Assert.False(HasAuthStatus && (await admin.Auth.StatusAsync()).Enabled);
        // With auth disabled a client with credentials works without a token.
        await using var later = NewClient("root", "rootpw");
        await later.Kv.PutAsync("app/2", "v");
    }
}

public sealed class EtcdAuthClientTests : AuthClientTests
{
    protected override IClusterProvider Provider => EtcdClusterProvider.Instance;

    protected override bool HasAuthStatus => false;
}

public sealed class KetchAuthClientTests : AuthClientTests
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}
