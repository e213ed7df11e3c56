using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class RestartTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Data_revision_and_leases_survive_restart_and_nothing_is_applied_twice()
    {
        await using var m = await TestMember.StartSingleAsync();
        for (var i = 0; i < 20; i++)
        {
            await m.Kv.PutAsync(new PutRequest { Key = B("r/counter"), Value = B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)) });
        }
        var lease = await m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 });
        await m.Kv.PutAsync(new PutRequest { Key = B("r/leased"), Value = B("x"), Lease = lease.ID });
        var before = await m.Kv.RangeAsync(new RangeRequest { Key = B("r/counter") });
        var statusBefore = await m.Maintenance.StatusAsync(new StatusRequest());
        var memberId = m.Server.MemberId;

        await m.RestartAsync();

        Assert.Equal(memberId, m.Server.MemberId);
        var after = await m.Kv.RangeAsync(new RangeRequest { Key = B("r/counter") });
        Assert.Equal(before.Kvs[0].Version, after.Kvs[0].Version); // 20: no entry re-applied
        Assert.Equal(before.Kvs[0].ModRevision, after.Kvs[0].ModRevision);
        Assert.Equal("19", after.Kvs[0].Value.ToStringUtf8());
        var statusAfter = await m.Maintenance.StatusAsync(new StatusRequest());
        Assert.True(statusAfter.RaftTerm >= statusBefore.RaftTerm);
        Assert.True(statusAfter.RaftAppliedIndex > statusBefore.RaftAppliedIndex);
        var ttl = await m.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID, Keys = true });
        Assert.Equal(600, ttl.GrantedTTL);
        Assert.Equal("r/leased", Assert.Single(ttl.Keys).ToStringUtf8());

        var next = await m.Kv.PutAsync(new PutRequest { Key = B("r/counter"), Value = B("20") });
        Assert.Equal(after.Header.Revision + 1, next.Header.Revision);
    }

    [Fact]
    public async Task A_new_leader_starts_lease_clocks_an_election_timeout_late_as_etcd_does()
    {
        // Promotion at a restart, as at any leader change: nobody could renew while there was no leader.
        await using var m = await TestMember.StartSingleAsync(o => o with { ElectionTimeoutMs = 4000 });
        var lease = await m.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 30 });
        await m.RestartAsync();
        var ttl = await m.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = lease.ID });
        Assert.Equal(30, ttl.GrantedTTL);
        Assert.InRange(ttl.TTL, 31, 34); // 30 s + 4 s, less the moments since the promotion
    }

    [Fact]
    public async Task Snapshots_every_snapshot_count_and_restart_from_them()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { SnapshotCount = 10 });
        for (var i = 0; i < 35; i++)
        {
            await m.Kv.PutAsync(new PutRequest { Key = B($"s/{i:D2}"), Value = B("v") });
        }
        var snapDir = Path.Combine(m.Options.DataDir, "member", "snap");
        Assert.NotEmpty(Directory.GetFiles(snapDir, "*.snap"));
        await m.RestartAsync();
        var all = await m.Kv.RangeAsync(new RangeRequest { Key = B("s/"), RangeEnd = B("s0"), CountOnly = true });
        Assert.Equal(35, all.Count);
        await m.Kv.PutAsync(new PutRequest { Key = B("s/after"), Value = B("v") });
    }
}
