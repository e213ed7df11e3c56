using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Authpb;
using Ketch.Api.Etcdserverpb;
using AuthClient = Ketch.Api.Etcdserverpb.Auth.AuthClient;

namespace Ketch.Server.Tests;

/// <summary>etcd's v3 auth on ketch members, through the generated gRPC clients.</summary>
public sealed class AuthTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    internal static Metadata Token(string token) => new() { { "token", token } };

    private static AuthClient Auth(TestMember m) => new(m.Channel);

    /// <summary>root (root role), alice with readwrite on prefix "a/" and read on "r"; auth enabled.</summary>
    internal static async Task SetUpAsync(TestMember m)
    {
        var auth = Auth(m);
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "root", Role = "root" });
        await auth.RoleAddAsync(new AuthRoleAddRequest { Name = "apps" });
        await auth.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest
        {
            Name = "apps",
            Perm = new Permission { Key = B("a/"), RangeEnd = B("a0"), PermType = Permission.Types.Type.Readwrite },
        });
        await auth.RoleGrantPermissionAsync(new AuthRoleGrantPermissionRequest
        {
            Name = "apps",
            Perm = new Permission { Key = B("r"), PermType = Permission.Types.Type.Read },
        });
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "alice", Password = "apw" });
        await auth.UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "apps" });
        await auth.AuthEnableAsync(new AuthEnableRequest());
    }

    internal static async Task<string> LoginAsync(TestMember m, string user, string password) =>
        (await Auth(m).AuthenticateAsync(new AuthenticateRequest { Name = user, Password = password })).Token;

    internal static async Task<RpcException> FailsAsync(Func<Task> call, StatusCode code, string detail)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.Equal(code, e.StatusCode);
        Assert.Equal(detail, e.Status.Detail);
        return e;
    }

    [Fact]
    public async Task Enable_requires_root_and_then_every_request_is_checked()
    {
        await using var m = await TestMember.StartSingleAsync();
        var auth = Auth(m);
        // Before enabling: nothing is checked, and enabling needs a root user with the root role.
        await m.Kv.PutAsync(new PutRequest { Key = B("a/1"), Value = B("v") });
        await FailsAsync(() => auth.AuthEnableAsync(new AuthEnableRequest()).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: root user does not exist");
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "rootpw" });
        await FailsAsync(() => auth.AuthEnableAsync(new AuthEnableRequest()).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: root user does not have root role");
        await FailsAsync(() => auth.UserAddAsync(new AuthUserAddRequest { Name = "root", Password = "x" }).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: user name already exists");
        await FailsAsync(() => auth.AuthenticateAsync(new AuthenticateRequest { Name = "root", Password = "rootpw" }).ResponseAsync, StatusCode.FailedPrecondition, "etcdserver: authentication is not enabled");
        await auth.UserDeleteAsync(new AuthUserDeleteRequest { Name = "root" });
        await SetUpAsync(m);
        var status = await auth.AuthStatusAsync(new AuthStatusRequest(), Token(await LoginAsync(m, "root", "rootpw")));
        Assert.True(status.Enabled);
        Assert.True(status.AuthRevision > 1);

        // No token: etcd's empty user. A wrong password or user: authentication failed.
        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("a/1"), Value = B("v") }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: user name is empty");
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("a/1") }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: user name is empty");
        await FailsAsync(() => LoginAsync(m, "alice", "wrong"), StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
        await FailsAsync(() => LoginAsync(m, "nobody", "apw"), StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
        // A user added without a password cannot log in with one: etcd's own error, with no gRPC code.
        await auth.UserAddAsync(new AuthUserAddRequest { Name = "cert-only", Options = new UserAddOptions { NoPassword = true } }, Token(await LoginAsync(m, "root", "rootpw")));
        await FailsAsync(() => LoginAsync(m, "cert-only", "anything"), StatusCode.Unknown, "auth: authentication failed, password was given for no password user");
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("a/1") }, Token("bogus.1")).ResponseAsync, StatusCode.Unauthenticated, "etcdserver: invalid auth token");

        // alice: readwrite on a/ (prefix), read on r; nothing else.
        var alice = Token(await LoginAsync(m, "alice", "apw"));
        await m.Kv.PutAsync(new PutRequest { Key = B("a/2"), Value = B("v") }, alice);
        Assert.Equal(2, (await m.Kv.RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0") }, alice)).Count);
        await m.Kv.RangeAsync(new RangeRequest { Key = B("r") }, alice);
        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("r"), Value = B("v") }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("a"), RangeEnd = B("b") }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        // A range_end sent empty reads every key from a/2 on, beyond alice's prefix: checked as that range.
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("a/2"), RangeEnd = ByteString.Empty }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        var inTxn = new TxnRequest { Success = { new RequestOp { RequestRange = new RangeRequest { Key = B("a/2"), RangeEnd = ByteString.Empty } } } };
        await FailsAsync(() => m.Kv.TxnAsync(inTxn, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => m.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("b") }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        // Every op of a transaction, in both branches, and every compare.
        var denied = new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("a/3"), Value = B("v") } } }, Failure = { new RequestOp { RequestPut = new PutRequest { Key = B("x"), Value = B("v") } } } };
        await FailsAsync(() => m.Kv.TxnAsync(denied, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        var compare = new TxnRequest { Compare = { new Compare { Key = B("x"), Target = Compare.Types.CompareTarget.Version } } };
        await FailsAsync(() => m.Kv.TxnAsync(compare, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        Assert.True((await m.Kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("a/3"), Value = B("v") } } } }, alice)).Succeeded);
        // Root-only: member changes, user management, hashes (etcd's raw auth error), snapshot.
        await FailsAsync(() => m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.99:1" } }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => auth.UserListAsync(new AuthUserListRequest(), alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => m.Maintenance.HashKVAsync(new HashKVRequest(), alice).ResponseAsync, StatusCode.Unknown, "auth: permission denied");
        await FailsAsync(() => m.Maintenance.DefragmentAsync(new DefragmentRequest()).ResponseAsync, StatusCode.Unknown, "auth: user name is empty");
        // Raising or clearing an alarm stops or resumes every write; moving the leader: root only. Listing alarms is open.
        await FailsAsync(() => m.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Activate, MemberID = m.Server.MemberId, Alarm = AlarmType.Corrupt }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => m.Maintenance.AlarmAsync(new AlarmRequest { Action = AlarmRequest.Types.AlarmAction.Deactivate, Alarm = AlarmType.Nospace }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: user name is empty");
        await FailsAsync(() => m.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = m.Server.MemberId }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        Assert.Empty((await m.Maintenance.AlarmAsync(new AlarmRequest(), alice)).Alarms);
        // A user reads itself and its roles.
        Assert.Equal("apps", Assert.Single((await auth.UserGetAsync(new AuthUserGetRequest { Name = "alice" }, alice)).Roles));
        Assert.Equal(2, (await auth.RoleGetAsync(new AuthRoleGetRequest { Role = "apps" }, alice)).Perm.Count);
        await FailsAsync(() => auth.UserGetAsync(new AuthUserGetRequest { Name = "root" }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");

        // Watch: a refused create is answered created + canceled with etcd's error text.
        using (var watch = m.Watch.Watch(alice))
        {
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("x") } });
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            var r = watch.ResponseStream.Current;
            Assert.True(r.Created && r.Canceled);
            Assert.Equal(-1, r.WatchId);
            Assert.Equal("rpc error: code = PermissionDenied desc = etcdserver: permission denied", r.CancelReason);
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("a/"), RangeEnd = B("a0") } });
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            Assert.True(watch.ResponseStream.Current.Created);
            Assert.False(watch.ResponseStream.Current.Canceled);
            await m.Kv.PutAsync(new PutRequest { Key = B("a/w"), Value = B("v") }, alice);
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal("a/w", Assert.Single(watch.ResponseStream.Current.Events).Kv.Key.ToStringUtf8());
        }

        // root may do everything, but not delete itself or its role while auth is on.
        var root = Token(await LoginAsync(m, "root", "rootpw"));
        await m.Kv.PutAsync(new PutRequest { Key = B("x"), Value = B("v") }, root);
        await m.Maintenance.HashKVAsync(new HashKVRequest(), root);
        await FailsAsync(() => auth.UserDeleteAsync(new AuthUserDeleteRequest { Name = "root" }, root).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: invalid auth management");
        await FailsAsync(() => auth.RoleDeleteAsync(new AuthRoleDeleteRequest { Role = "root" }, root).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: invalid auth management");
        // A changed password ends the user's tokens.
        await auth.UserChangePasswordAsync(new AuthUserChangePasswordRequest { Name = "alice", Password = "apw2" }, root);
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("r") }, alice).ResponseAsync, StatusCode.Unauthenticated, "etcdserver: invalid auth token");
        await FailsAsync(() => LoginAsync(m, "alice", "apw"), StatusCode.InvalidArgument, "etcdserver: authentication failed, invalid user ID or password");
        await LoginAsync(m, "alice", "apw2");

        await auth.AuthDisableAsync(new AuthDisableRequest(), root);
        await m.Kv.PutAsync(new PutRequest { Key = B("x"), Value = B("w") });
        Assert.False((await auth.AuthStatusAsync(new AuthStatusRequest())).Enabled);
    }

    [Fact]
    public async Task Auth_state_survives_a_restart_and_tokens_do_not()
    {
        await using var m = await TestMember.StartSingleAsync();
        await SetUpAsync(m);
        var before = Token(await LoginAsync(m, "alice", "apw"));
        await m.Kv.PutAsync(new PutRequest { Key = B("a/1"), Value = B("v") }, before);

        await m.RestartAsync();

        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("a/1"), Value = B("v") }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: user name is empty");
        // Simple tokens live in memory only, as etcd's.
        await FailsAsync(() => m.Kv.RangeAsync(new RangeRequest { Key = B("a/1") }, before).ResponseAsync, StatusCode.Unauthenticated, "etcdserver: invalid auth token");
        var alice = Token(await LoginAsync(m, "alice", "apw"));
        Assert.Equal("v", (await m.Kv.RangeAsync(new RangeRequest { Key = B("a/1") }, alice)).Kvs[0].Value.ToStringUtf8());
        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("b"), Value = B("v") }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        var users = await Auth(m).UserListAsync(new AuthUserListRequest(), Token(await LoginAsync(m, "root", "rootpw")));
        Assert.Equal(["alice", "root"], users.Users);
    }

    [Fact]
    public async Task Every_member_enforces_auth_and_a_member_catching_up_by_snapshot_gets_it()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { SnapshotCount = 20, SnapshotCatchUpEntries = 5 });
        var leader = await c.LeaderAsync();
        var lagging = c.Members.First(m => m != leader);
        var other = c.Members.First(m => m != leader && m != lagging);
        await TestCluster.PutAsync(leader, "before", "v");
        await lagging.StopAsync();
        await SetUpAsync(leader);
        var root = Token(await LoginAsync(leader, "root", "rootpw"));
        for (var i = 0; i < 60; i++)
        {
            await leader.Kv.PutAsync(new PutRequest { Key = B($"a/{i:D3}"), Value = B("v") }, root);
        }
        await lagging.RestartAsync();
        // Tokens are not in snapshots: log in on the lagging member once it has the users.
        await TestNet.WaitUntil(async () =>
        {
            try
            {
                var local = Token(await LoginAsync(lagging, "root", "rootpw"));
                return (await lagging.Kv.RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0"), CountOnly = true, Serializable = true }, local)).Count == 60;
            }
            catch (RpcException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(30), "the lagging member to catch up");
        // It came as a snapshot of the store, Auth bucket included.
        Assert.Single(Directory.GetFiles(Path.Combine(lagging.Options.DataDir, "member", "snap-in")));

        foreach (var m in c.Members)
        {
            await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("a/x"), Value = B("v") }).ResponseAsync, StatusCode.InvalidArgument, "etcdserver: user name is empty");
            var alice = Token(await LoginAsync(m, "alice", "apw"));
            await m.Kv.PutAsync(new PutRequest { Key = B("a/x"), Value = B("v") }, alice);
            await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("b"), Value = B("v") }, alice).ResponseAsync, StatusCode.PermissionDenied, "etcdserver: permission denied");
        }
        // A token is applied through Raft, so every member knows it (a client can fail over with it).
        await TestNet.WaitUntil(async () =>
        {
            try
            {
                await other.Kv.RangeAsync(new RangeRequest { Key = B("a/x"), Serializable = true }, root);
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, TimeSpan.FromSeconds(10), "the leader's token to be known by another member");
    }

    [Fact]
    public async Task The_json_gateway_and_elections_and_locks_are_checked_too()
    {
        await using var m = await TestMember.StartSingleAsync();
        await SetUpAsync(m);
        var alice = await LoginAsync(m, "alice", "apw");
        using var http = new HttpClient();

        async Task<(int Status, string Body)> PostAsync(string path, string json, string? token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, m.ClientUrl + path) { Content = new StringContent(json) };
            if (token is not null)
            {
                request.Headers.TryAddWithoutValidation("Authorization", token);
            }
            using var response = await http.SendAsync(request);
            return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
        }

        var key = Convert.ToBase64String("a/gw"u8);
        var other = Convert.ToBase64String("b/gw"u8);
        // No token, a bad token, a key outside alice's permissions: refused as etcd's gateway does.
        var anonymous = await PostAsync("/v3/kv/put", $"{{\"key\":\"{key}\",\"value\":\"eA==\"}}", null);
        Assert.Equal(400, anonymous.Status);
        Assert.Contains("etcdserver: user name is empty", anonymous.Body, StringComparison.Ordinal);
        Assert.Equal(401, (await PostAsync("/v3/kv/range", $"{{\"key\":\"{key}\"}}", "not-a-token")).Status);
        var outside = await PostAsync("/v3/kv/put", $"{{\"key\":\"{other}\",\"value\":\"eA==\"}}", alice);
        Assert.Equal(403, outside.Status);
        Assert.Contains("etcdserver: permission denied", outside.Body, StringComparison.Ordinal);
        // With alice's token inside her prefix: allowed.
        Assert.Equal(200, (await PostAsync("/v3/kv/put", $"{{\"key\":\"{key}\",\"value\":\"eA==\"}}", alice)).Status);
        var read = await PostAsync("/v3/kv/range", $"{{\"key\":\"{key}\"}}", alice);
        Assert.Equal(200, read.Status);
        using (var doc = System.Text.Json.JsonDocument.Parse(read.Body))
        {
            Assert.Equal("eA==", doc.RootElement.GetProperty("kvs")[0].GetProperty("value").GetString());
        }

        // Elections and locks work on keys under "<name>/": allowed under a/ (a name of its own, so no
        // older key there to wait for), refused elsewhere.
        var elections = new Ketch.Api.V3electionpb.Election.ElectionClient(m.Channel);
        var locks = new Ketch.Api.V3lockpb.Lock.LockClient(m.Channel);
        var lease = await m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 }, Token(alice));
        await FailsAsync(() => elections.CampaignAsync(new Ketch.Api.V3electionpb.CampaignRequest { Name = B("b"), Lease = lease.ID, Value = B("x") }, Token(alice)).ResponseAsync,
            StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => locks.LockAsync(new Ketch.Api.V3lockpb.LockRequest { Name = B("b"), Lease = lease.ID }, Token(alice)).ResponseAsync,
            StatusCode.PermissionDenied, "etcdserver: permission denied");
        await FailsAsync(() => locks.LockAsync(new Ketch.Api.V3lockpb.LockRequest { Name = B("a/lock"), Lease = lease.ID }).ResponseAsync,
            StatusCode.InvalidArgument, "etcdserver: user name is empty");
        var held = await locks.LockAsync(new Ketch.Api.V3lockpb.LockRequest { Name = B("a/lock"), Lease = lease.ID }, Token(alice),
            deadline: DateTime.UtcNow.AddSeconds(20));
        Assert.StartsWith("a/lock/", held.Key.ToStringUtf8(), StringComparison.Ordinal);
        await locks.UnlockAsync(new Ketch.Api.V3lockpb.UnlockRequest { Key = held.Key }, Token(alice));
    }
}
