using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class LeaseTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private TestMember M => fixture.Member;

    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Grant_attach_keepalive_timetolive_revoke_deletes_keys()
    {
        var grant = await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
        Assert.True(grant.ID > 0);
        Assert.Equal(30, grant.TTL);
        await M.Kv.PutAsync(new PutRequest { Key = B("l1/a"), Value = B("x"), Lease = grant.ID });
        await M.Kv.PutAsync(new PutRequest { Key = B("l1/b"), Value = B("y"), Lease = grant.ID });

        using (var ka = M.Lease.LeaseKeepAlive())
        {
            await ka.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
            Assert.True(await ka.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(grant.ID, ka.ResponseStream.Current.ID);
            Assert.Equal(30, ka.ResponseStream.Current.TTL);
            await ka.RequestStream.CompleteAsync();
        }

        var ttl = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID, Keys = true });
        Assert.Equal(30, ttl.GrantedTTL);
        Assert.InRange(ttl.TTL, 1, 30);
        Assert.Equal(["l1/a", "l1/b"], ttl.Keys.Select(k => k.ToStringUtf8()).Order());
        var list = await M.Lease.LeaseLeasesAsync(new LeaseLeasesRequest());
        Assert.Contains(list.Leases, l => l.ID == grant.ID);

        var before = (await M.Kv.RangeAsync(new RangeRequest { Key = B("l1/a") })).Header.Revision;
        var revoked = await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = grant.ID });
        Assert.Equal(before + 1, revoked.Header.Revision); // both keys in one revision
        var left = await M.Kv.RangeAsync(new RangeRequest { Key = B("l1/"), RangeEnd = B("l10") });
        Assert.Empty(left.Kvs);
        var gone = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID });
        Assert.Equal(-1, gone.TTL);
        var again = await Assert.ThrowsAsync<RpcException>(() => M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = grant.ID }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
        Assert.Equal("etcdserver: requested lease not found", again.Status.Detail);
    }

    [Fact]
    public async Task Expired_lease_is_revoked_by_the_leader_with_its_keys()
    {
        // Minimum TTL with a 500 ms election timeout is 1 s.
        var grant = await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 1 });
        Assert.Equal(1, grant.TTL);
        await M.Kv.PutAsync(new PutRequest { Key = B("l2/a"), Value = B("x"), Lease = grant.ID });
        await TestNet.WaitUntil(async () => (await M.Kv.RangeAsync(new RangeRequest { Key = B("l2/a") })).Kvs.Count == 0,
            TimeSpan.FromSeconds(15), "the lease to expire");
        var ttl = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID });
        Assert.Equal(-1, ttl.TTL);
    }

    [Fact]
    public async Task Grant_errors()
    {
        var big = await Assert.ThrowsAsync<RpcException>(() => M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 9_000_000_001 }).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, big.StatusCode);
        Assert.Equal("etcdserver: too large lease TTL", big.Status.Detail);
        var g = await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60, ID = 4242 });
        Assert.Equal(4242, g.ID);
        var dup = await Assert.ThrowsAsync<RpcException>(() => M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60, ID = 4242 }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, dup.StatusCode);
        Assert.Equal("etcdserver: lease already exists", dup.Status.Detail);
    }

    [Fact]
    public async Task Leases_are_listed_soonest_to_expire_first()
    {
        long[] ttls = [300, 100, 200, 50];
        var ids = new List<long>();
        foreach (var ttl in ttls)
        {
            ids.Add((await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = ttl })).ID);
        }
        var listed = (await M.Lease.LeaseLeasesAsync(new LeaseLeasesRequest())).Leases.Select(l => l.ID).Where(ids.Contains).ToList();
        Assert.Equal([ids[3], ids[1], ids[2], ids[0]], listed);
        foreach (var id in ids)
        {
            await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = id });
        }
    }

    [Fact]
    public async Task Time_to_live_reports_whole_seconds_left_truncated_as_etcd_does()
    {
        var grant = await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 100 });
        var ttl = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID });
        Assert.Equal(100, ttl.GrantedTTL);
        // Some time has passed since the grant, so less than 100 s are left: etcdctl prints 99.
        Assert.InRange(ttl.TTL, 90, 99);
        await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = grant.ID });
    }

    [Fact]
    public async Task Attached_keys_follow_puts_deletes_and_txns()
    {
        var l = await M.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 120 });
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/a"), Value = B("1"), Lease = l.ID });
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/b"), Value = B("1"), Lease = l.ID });
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/d"), Value = B("1"), Lease = l.ID });
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/a"), Value = B("2") }); // re-put without the lease
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/d"), IgnoreValue = true, IgnoreLease = true }); // keeps it
        await M.Kv.TxnAsync(new TxnRequest
        {
            Success =
            {
                new RequestOp { RequestPut = new PutRequest { Key = B("l3/c"), Value = B("1"), Lease = l.ID } },
                new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("l3/b") } },
            },
        });
        var del = await M.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("l3/zz") });
        Assert.Empty(del.PrevKvs);
        var ttl = await M.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = l.ID, Keys = true });
        Assert.Equal(["l3/c", "l3/d"], ttl.Keys.Select(k => k.ToStringUtf8()));
        await M.Lease.LeaseRevokeAsync(new LeaseRevokeRequest { ID = l.ID });
        var left = await M.Kv.RangeAsync(new RangeRequest { Key = B("l3/"), RangeEnd = B("l30") });
        Assert.Equal(["l3/a"], left.Kvs.Select(k => k.Key.ToStringUtf8()));
        // A delete that did not ask for prev_kv does not get them (the applier asks for its own use).
        await M.Kv.PutAsync(new PutRequest { Key = B("l3/e"), Value = B("1") });
        var plain = await M.Kv.DeleteRangeAsync(new DeleteRangeRequest { Key = B("l3/e") });
        Assert.Equal(1, plain.Deleted);
        Assert.Empty(plain.PrevKvs);
        var txnDel = await M.Kv.TxnAsync(new TxnRequest { Success = { new RequestOp { RequestDeleteRange = new DeleteRangeRequest { Key = B("l3/a") } } } });
        Assert.Empty(txnDel.Responses[0].ResponseDeleteRange.PrevKvs);
    }
}
