using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;
using Ketch.Server.Api;
using Ketch.Server.Apply;
using Ketch.Server.Auth;
using static Ketch.Server.Tests.AuthTests;
using AuthClient = Ketch.Api.Etcdserverpb.Auth.AuthClient;

namespace Ketch.Server.Tests;

/// <summary>Permissions checked again when an entry is applied, with the user and auth revision its
/// proposal carries (etcd's request header): the race between a check and a permission change is
/// driven deterministically by proposing through the member's internal API.</summary>
public sealed class AuthRecheckTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private const string OldRevision = "etcdserver: revision of auth store is old";

    [Fact]
    public async Task A_write_checked_before_its_role_was_revoked_is_refused_at_apply()
    {
        await using var m = await TestMember.StartSingleAsync();
        await SetUpAsync(m);
        var loop = m.Server.Loop;
        var root = Token(await LoginAsync(m, "root", "rootpw"));
        var checkedAt = loop.Auth.Revision;

        // The normal path: alice's write, checked at the current revision, applies.
        var ok = await loop.ProposeAsync(RaftRequestKind.Put, new PutRequest { Key = B("a/1"), Value = B("v") }, CancellationToken.None, new RequestAuth("alice", checkedAt));
        Assert.Null(ok.Error);
        Assert.IsType<PutResponse>(ok.Response);

        // Her role goes between the check and the apply.
        await new AuthClient(m.Channel).UserRevokeRoleAsync(new AuthUserRevokeRoleRequest { Name = "alice", Role = "apps" }, root);
        Assert.True(loop.Auth.Revision > checkedAt);

        // Checked before the revocation: the store moved on, so the entry is refused (etcd's error).
        var stale = await loop.ProposeAsync(RaftRequestKind.Put, new PutRequest { Key = B("a/2"), Value = B("v") }, CancellationToken.None, new RequestAuth("alice", checkedAt));
        Assert.NotNull(stale.Error);
        Assert.Equal(StatusCode.InvalidArgument, stale.Error.StatusCode);
        Assert.Equal(OldRevision, stale.Error.Status.Detail);
        // At the current revision the permission itself is asked again: gone.
        var denied = await loop.ProposeAsync(RaftRequestKind.Txn, new TxnRequest { Success = { new RequestOp { RequestPut = new PutRequest { Key = B("a/2"), Value = B("v") } } } },
            CancellationToken.None, new RequestAuth("alice", loop.Auth.Revision));
        Assert.Equal("etcdserver: permission denied", denied.Error?.Status.Detail);
        var deleted = await loop.ProposeAsync(RaftRequestKind.DeleteRange, new DeleteRangeRequest { Key = B("a/1") }, CancellationToken.None, new RequestAuth("alice", loop.Auth.Revision));
        Assert.Equal("etcdserver: permission denied", deleted.Error?.Status.Detail);
        // Nothing of it reached the store.
        var range = await m.Kv.RangeAsync(new RangeRequest { Key = B("a/"), RangeEnd = B("a0") }, root);
        Assert.Equal(["a/1"], range.Kvs.Select(kv => kv.Key.ToStringUtf8()));

        // A request sent without a token while auth was off, applied after it was turned on: the empty user.
        await new AuthClient(m.Channel).AuthDisableAsync(new AuthDisableRequest(), root);
        var anonymousAt = loop.Auth.Revision;
        await new AuthClient(m.Channel).AuthEnableAsync(new AuthEnableRequest());
        var anonymous = await loop.ProposeAsync(RaftRequestKind.Put, new PutRequest { Key = B("x"), Value = B("v") }, CancellationToken.None, new RequestAuth("", anonymousAt));
        Assert.Equal("etcdserver: user name is empty", anonymous.Error?.Status.Detail);
        // An admin change by a user who lost the root role after the check: refused at apply.
        root = Token(await LoginAsync(m, "root", "rootpw"));
        await new AuthClient(m.Channel).UserGrantRoleAsync(new AuthUserGrantRoleRequest { User = "alice", Role = "root" }, root);
        await new AuthClient(m.Channel).UserRevokeRoleAsync(new AuthUserRevokeRoleRequest { Name = "alice", Role = "root" }, root);
        var admin = await loop.ProposeAsync(RaftRequestKind.AuthRoleAdd, new AuthRoleAddRequest { Name = "sneaky" }, CancellationToken.None, new RequestAuth("alice", loop.Auth.Revision));
        Assert.Equal("etcdserver: permission denied", admin.Error?.Status.Detail);
        Assert.Null(loop.Auth.GetRole("sneaky"));
        // The member's own proposals carry no sender and are not checked (lease expiry, compaction).
        var own = await loop.ProposeAsync(RaftRequestKind.Compaction, new CompactionRequest { Revision = loop.Kv.CurrentRevision }, CancellationToken.None);
        Assert.Null(own.Error);
    }

    [Fact]
    public async Task The_member_proposes_a_stale_write_again_and_the_recheck_decides()
    {
        await using var m = await TestMember.StartSingleAsync();
        await SetUpAsync(m);
        var loop = m.Server.Loop;
        var member = new MemberContext(loop, m.Options);
        var root = Token(await LoginAsync(m, "root", "rootpw"));
        var auth = new AuthClient(m.Channel);
        var checkedAt = loop.Auth.Revision;
        // An unrelated change: the write checked before it is refused at apply as old, proposed
        // again with the current revision (etcd's raftRequest loop), and applied.
        await auth.RoleAddAsync(new AuthRoleAddRequest { Name = "unrelated" }, root);
        var put = await AuthInterceptor.WithSender(new RequestAuth("alice", checkedAt),
            () => member.ProposeAsync<PutResponse>(RaftRequestKind.Put, new PutRequest { Key = B("a/retried"), Value = B("v") }, CancellationToken.None));
        Assert.True(put.Header.Revision > 1);

        // Her role revoked after the check: the retry's apply denies it, which is what the client sees.
        checkedAt = loop.Auth.Revision;
        await auth.UserRevokeRoleAsync(new AuthUserRevokeRoleRequest { Name = "alice", Role = "apps" }, root);
        var e = await Assert.ThrowsAsync<RpcException>(() => AuthInterceptor.WithSender(new RequestAuth("alice", checkedAt),
            () => member.ProposeAsync<PutResponse>(RaftRequestKind.Put, new PutRequest { Key = B("a/late"), Value = B("v") }, CancellationToken.None)));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
        Assert.Equal("etcdserver: permission denied", e.Status.Detail);

        // A JWT's revision is the token's own: no retry, the client gets the error and authenticates again.
        e = await Assert.ThrowsAsync<RpcException>(() => AuthInterceptor.WithSender(new RequestAuth("root", checkedAt, Pinned: true),
            () => member.ProposeAsync<PutResponse>(RaftRequestKind.Put, new PutRequest { Key = B("a/jwt"), Value = B("v") }, CancellationToken.None)));
        Assert.Equal(OldRevision, e.Status.Detail);

        // Through gRPC the whole path still works as before.
        var alice = Token(await LoginAsync(m, "alice", "apw"));
        await FailsAsync(() => m.Kv.PutAsync(new PutRequest { Key = B("a/3"), Value = B("v") }, alice).ResponseAsync,
            StatusCode.PermissionDenied, "etcdserver: permission denied");
        await m.Kv.PutAsync(new PutRequest { Key = B("a/3"), Value = B("v") }, root);
    }

    [Fact]
    public void Entries_written_before_the_auth_header_decode_as_they_always_did()
    {
        var put = new PutRequest { Key = B("k"), Value = B("v") };
        // The old layout, byte for byte: kind, request id (LE), the request.
        byte[] legacy = [(byte)RaftRequestKind.Put, 7, 0, 0, 0, 0, 0, 0, 0, .. put.ToByteArray()];
        Assert.Equal(legacy, RaftRequest.Encode(RaftRequestKind.Put, 7, put));
        Assert.True(RaftRequest.TryDecode(legacy, out var old));
        Assert.Equal(RaftRequestKind.Put, old.Kind);
        Assert.Equal(7ul, old.Id);
        Assert.Null(old.Auth);
        Assert.Equal(put, PutRequest.Parser.ParseFrom(old.Payload.Span));

        var data = RaftRequest.Encode(RaftRequestKind.Txn, 9, put, new RequestAuth("ålice", 42));
        Assert.Equal((byte)RaftRequestKind.Txn | RaftRequest.AuthFlag, data[0]);
        Assert.True(RaftRequest.TryDecode(data, out var decoded));
        Assert.Equal(RaftRequestKind.Txn, decoded.Kind);
        Assert.Equal(9ul, decoded.Id);
        Assert.Equal(new RequestAuth("ålice", 42), decoded.Auth);
        Assert.Equal(put, PutRequest.Parser.ParseFrom(decoded.Payload.Span));
        // Truncated headers are not ours.
        Assert.False(RaftRequest.TryDecode(data.AsMemory(0, RaftRequest.HeaderBytes + 4), out _));
        Assert.False(RaftRequest.TryDecode(data.AsMemory(0, RaftRequest.HeaderBytes + RaftRequest.AuthFixedBytes + 2), out _));
    }
}
