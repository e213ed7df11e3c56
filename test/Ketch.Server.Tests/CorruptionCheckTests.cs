using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>
/// etcd's corruption checks (<c>--experimental-initial-corrupt-check</c>,
/// <c>--experimental-corrupt-check-time</c>). A member's store is made to diverge by writing to it
/// directly, outside Raft: from then on it applies each entry one revision later than its peers,
/// so their hashes at a revision both have differ, as they would after silent damage.
/// </summary>
public sealed class CorruptionCheckTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static void Diverge(TestMember m) =>
        m.Server.Loop.Kv.Put(new Ketch.Mvcc.PutRequest { Key = "cc/not-in-the-log"u8.ToArray(), Value = "x"u8.ToArray() });

    private static Task WaitApplied(IEnumerable<TestMember> members, long revision) =>
        TestNet.WaitUntil(() => members.All(m => m.Server.Loop.Kv.CurrentRevision >= revision), TimeSpan.FromSeconds(10), $"every member to apply revision {revision}");

    [Fact]
    public async Task The_leaders_periodic_check_raises_corrupt_for_the_diverged_member_and_writes_stop()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { InitialCorruptCheck = true, CorruptCheckInterval = TimeSpan.FromMilliseconds(300) });
        var leader = await c.LeaderAsync();
        var put = await TestCluster.PutAsync(leader, "cc/a", "1");
        await WaitApplied(c.Members, put.Header.Revision);

        // A healthy cluster: one pass compares all three and blames nobody.
        Assert.Empty(await leader.Server.Corruption.CheckOnceAsync(CancellationToken.None));
        Assert.Empty((await leader.Maintenance.AlarmAsync(new AlarmRequest())).Alarms);

        var follower = c.Members.First(m => m != leader);
        Diverge(follower);
        put = await TestCluster.PutAsync(leader, "cc/b", "2");
        await WaitApplied(c.Members, put.Header.Revision);

        await TestNet.WaitUntil(async () => (await leader.Maintenance.AlarmAsync(new AlarmRequest())).Alarms
            .Any(a => a.Alarm == AlarmType.Corrupt), TimeSpan.FromSeconds(15), "the leader's check to raise CORRUPT");
        var alarm = Assert.Single((await leader.Maintenance.AlarmAsync(new AlarmRequest())).Alarms);
        Assert.Equal(follower.Server.MemberId, alarm.MemberID); // the odd one out of three

        var refused = await Assert.ThrowsAsync<RpcException>(() => leader.Kv.PutAsync(new PutRequest { Key = B("cc/c"), Value = B("3") }).ResponseAsync);
        Assert.Equal(StatusCode.DataLoss, refused.StatusCode);
        Assert.Equal("etcdserver: corrupt cluster", refused.Status.Detail);
        using var http = new HttpClient();
        var health = await http.GetAsync(leader.ClientUrl + "/health");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, health.StatusCode);
        Assert.Equal("{\"health\":\"false\",\"reason\":\"ALARM CORRUPT\"}", await health.Content.ReadAsStringAsync());
        var ready = await http.GetAsync(leader.ClientUrl + "/readyz");
        Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.StartsWith("[-]data_corruption failed: alarm activated: CORRUPT\n", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_member_with_other_data_at_the_same_revision_refuses_to_start()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var put = await TestCluster.PutAsync(leader, "cc/a", "1");
        await WaitApplied(c.Members, put.Header.Revision);
        var follower = c.Members.First(m => m != leader);
        var followerId = follower.Server.MemberId;
        Diverge(follower); // one revision ahead from now on, with a key nobody else has
        await TestCluster.PutAsync(leader, "cc/b", "2");
        await TestNet.WaitUntil(async () => (await follower.Kv.RangeAsync(new RangeRequest { Key = B("cc/b"), Serializable = true })).Count == 1,
            TimeSpan.FromSeconds(10), "the diverged member to apply cc/b");
        await follower.StopAsync();
        put = await TestCluster.PutAsync(leader, "cc/c", "3"); // the others reach its revision, with other data
        await WaitApplied(c.Members.Where(m => m != follower), put.Header.Revision);

        var checking = new KetchServer(follower.Options with { InitialCorruptCheck = true });
        try
        {
            var e = await Assert.ThrowsAsync<InvalidOperationException>(() => checking.StartAsync());
            Assert.Equal($"{followerId:x} found data inconsistency with peers", e.Message);
        }
        finally
        {
            await checking.DisposeAsync();
        }

        // A healthy member passes the same check at its restart.
        var healthy = c.Members.First(m => m != leader && m != follower);
        await healthy.StopAsync();
        var restarted = new KetchServer(healthy.Options with { InitialCorruptCheck = true });
        try
        {
            await restarted.StartAsync();
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await restarted.WaitForLeaderAsync(cts.Token);
        }
        finally
        {
            await restarted.DisposeAsync();
        }
    }
}
