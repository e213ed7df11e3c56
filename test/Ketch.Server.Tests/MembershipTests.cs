using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class MembershipTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>
    /// MemberAdd answers once the change is committed, not once every member has applied it. A new
    /// member that asked a member still behind (here cut off from the leader) got a list without
    /// itself and refused to start ("this member's peer URLs are not in the cluster's member list"):
    /// seen in a chaos run (seed 31) that replaced a follower. It now asks the others too.
    /// </summary>
    [Fact]
    public async Task A_new_member_joins_when_the_member_it_asks_first_has_not_applied_its_addition()
    {
        await using var c = await TestCluster.StartAsync(3, partitionable: true, tweak: o => o with { StrictReconfigCheck = false });
        var leader = await c.LeaderAsync();
        var behind = c.Members.First(m => m != leader);
        await TestCluster.PutAsync(leader, "j/before", "1");
        c.Cut((leader, behind));
        var ip = "127.0.0.14";
        var client = $"http://{ip}:{TestNet.FreePort(ip)}";
        var peer = $"http://{ip}:{TestNet.FreePort(ip)}";
        var add = await leader.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer }, IsLearner = true });
        Assert.DoesNotContain(behind.Server.Loop.Membership.Members, m => m.Id == add.Member.ID);

        // Listed first in --initial-cluster, the member that has not applied the addition is asked first.
        var initial = string.Join(",", c.Members.OrderBy(m => m != behind).Select(m => $"{m.Options.Name}={m.Options.InitialAdvertisePeerUrls[0]}")) + $",m4={peer}";
        using var dir = new TempDir();
        await using var joined = TestMember.Create(leader.Options with
        {
            Name = "m4",
            DataDir = dir.Path,
            ListenClientUrls = [client],
            AdvertiseClientUrls = [client],
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = initial,
            InitialClusterState = "existing",
        });
        await joined.Server.StartAsync();

        Assert.Equal(add.Member.ID, joined.Server.MemberId);
        Assert.Equal(leader.Server.ClusterId, joined.Server.ClusterId);
        await TestNet.WaitUntil(async () =>
            (await joined.Kv.RangeAsync(new RangeRequest { Key = B("j/before"), Serializable = true })).Count == 1,
            TimeSpan.FromSeconds(20), "the new member to catch up");
    }

    [Fact]
    public async Task Max_learners_sets_how_many_learners_the_cluster_takes()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { MaxLearners = 2 });
        foreach (var port in new[] { 1, 2 })
        {
            var add = await m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { $"http://127.0.0.13:{port}" }, IsLearner = true });
            Assert.True(add.Member.IsLearner);
        }
        var third = await Assert.ThrowsAsync<RpcException>(() => m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.13:3" }, IsLearner = true }).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster"), (third.StatusCode, third.Status.Detail));
        Assert.Equal(2, (await m.Cluster.MemberListAsync(new MemberListRequest())).Members.Count(x => x.IsLearner));
    }

    [Fact]
    public async Task Add_learner_join_catch_up_promote_move_leader_and_remove_under_load()
    {
        // The removal below follows m2's join within seconds, which etcd's 5 s health interval
        // would refuse (tested in Strict_reconfig_check_wants_the_voters_connected): connected will do here.
        await using var c = await TestCluster.StartAsync(1, tweak: o => o with { ReconfigHealthInterval = TimeSpan.Zero });
        var m1 = await c.LeaderAsync();
        for (var i = 0; i < 10; i++)
        {
            await TestCluster.PutAsync(m1, $"mb/{i}", "v");
        }
        // A writer runs through every membership change below; every put it saw acknowledged must
        // be there at the end (failures while leadership moves are allowed: outcome unknown).
        using var stopLoad = new CancellationTokenSource();
        var acked = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var attempts = 0;
        var load = Task.Run(async () =>
        {
            while (!stopLoad.IsCancellationRequested)
            {
                var key = $"ld/{attempts++:D6}";
                try
                {
                    await m1.Kv.PutAsync(new PutRequest { Key = B(key), Value = B("v") }, deadline: DateTime.UtcNow.AddSeconds(5));
                    acked.Enqueue(key);
                }
                catch (RpcException)
                {
                }
            }
        });
        var ip = "127.0.0.12";
        var client = $"http://{ip}:{TestNet.FreePort(ip)}";
        var peer = $"http://{ip}:{TestNet.FreePort(ip)}";
        var add = await m1.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer }, IsLearner = true });
        Assert.True(add.Member.IsLearner);
        Assert.Equal(2, add.Members.Count);
        var dup = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer } }).ResponseAsync);
        Assert.Equal("etcdserver: Peer URLs already exists", dup.Status.Detail);
        var notLearner = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberPromoteAsync(new MemberPromoteRequest { ID = m1.Server.MemberId }).ResponseAsync);
        Assert.Equal("etcdserver: can only promote a learner member", notLearner.Status.Detail);

        using var dir = new TempDir();
        var o1 = m1.Options;
        await using var m2 = TestMember.Create(new KetchServerOptions
        {
            Name = "m2",
            DataDir = dir.Path,
            ListenClientUrls = [client],
            AdvertiseClientUrls = [client],
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = $"{o1.Name}={o1.InitialAdvertisePeerUrls[0]},m2={peer}",
            InitialClusterState = "existing",
            InitialClusterToken = o1.InitialClusterToken,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 500,
            ReconfigHealthInterval = TimeSpan.Zero,
        });
        await m2.StartAsync();
        Assert.Equal(add.Member.ID, m2.Server.MemberId);
        Assert.Equal(m1.Server.ClusterId, m2.Server.ClusterId);
        await TestNet.WaitUntil(async () =>
            (await m2.Kv.RangeAsync(new RangeRequest { Key = B("mb/"), RangeEnd = B("mb0"), CountOnly = true, Serializable = true })).Count == 10,
            TimeSpan.FromSeconds(20), "the learner to catch up");

        // A learner serves serializable ranges and Status only, as etcd's; the rest is refused
        // with etcd's Unavailable, which sends clientv3 to another endpoint.
        Assert.False(string.IsNullOrEmpty((await m2.Maintenance.StatusAsync(new StatusRequest())).Version));
        foreach (var call in new Func<Task>[]
        {
            () => m2.Kv.PutAsync(new PutRequest { Key = B("mb/on-learner"), Value = B("v") }).ResponseAsync,
            () => m2.Kv.RangeAsync(new RangeRequest { Key = B("mb/0") }).ResponseAsync,
            () => m2.Cluster.MemberListAsync(new MemberListRequest()).ResponseAsync,
            () => m2.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 60 }).ResponseAsync,
        })
        {
            var refused = await Assert.ThrowsAsync<RpcException>(call);
            Assert.Equal((StatusCode.Unavailable, "etcdserver: rpc not supported for learner"), (refused.StatusCode, refused.Status.Detail));
        }
        using (var watch = m2.Watch.Watch())
        {
            // The call ends at once: the write may already see the status, or else the read does.
            var refused = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("mb/") } });
                await watch.ResponseStream.MoveNext();
            });
            Assert.Equal((StatusCode.Unavailable, "etcdserver: rpc not supported for learner"), (refused.StatusCode, refused.Status.Detail));
        }
        using (var http = new HttpClient())
        {
            var put = await http.PostAsync(client + "/v3/kv/put", new StringContent("{\"key\":\"YQ==\",\"value\":\"eA==\"}"));
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, put.StatusCode);
            Assert.Contains("etcdserver: rpc not supported for learner", await put.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            var ready = await http.GetAsync(client + "/readyz?verbose");
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, ready.StatusCode);
            Assert.Contains("[-]non_learner failed: this member is a learner\n", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        Assert.Equal(0, (await m1.Kv.RangeAsync(new RangeRequest { Key = B("mb/on-learner") })).Count);
        // One learner at a time, as etcd; and no member may take another's peer URL.
        var second = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.12:1" }, IsLearner = true }).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "etcdserver: too many learner members in cluster"), (second.StatusCode, second.Status.Detail));
        var taken = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberUpdateAsync(new MemberUpdateRequest { ID = m2.Server.MemberId, PeerURLs = { o1.InitialAdvertisePeerUrls[0] } }).ResponseAsync);
        Assert.Equal((StatusCode.FailedPrecondition, "etcdserver: Peer URLs already exists"), (taken.StatusCode, taken.Status.Detail));
        Assert.Equal([peer], (await m1.Cluster.MemberListAsync(new MemberListRequest())).Members.Single(m => m.ID == m2.Server.MemberId).PeerURLs);

        await TestNet.WaitUntil(async () =>
        {
            try
            {
                await m1.Cluster.MemberPromoteAsync(new MemberPromoteRequest { ID = m2.Server.MemberId });
                return true;
            }
            catch (RpcException e) when (e.Status.Detail.Contains("in sync", StringComparison.Ordinal))
            {
                return false;
            }
        }, TimeSpan.FromSeconds(20), "the promotion");
        var list = await m1.Cluster.MemberListAsync(new MemberListRequest());
        Assert.All(list.Members, m => Assert.False(m.IsLearner));
        Assert.Equal((m1.Server.ClusterId, 0L), (list.Header.ClusterId, list.Header.Revision)); // etcd's Cluster headers carry no revision
        await TestCluster.PutAsync(m2, "mb/from-m2", "v");

        // Leadership moves to the new voter (etcdctl move-leader), then back.
        await m1.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = m2.Server.MemberId });
        await TestNet.WaitUntil(() => m1.Server.Leader == m2.Server.MemberId && m2.Server.Leader == m2.Server.MemberId, TimeSpan.FromSeconds(10), "m2 to lead");
        var notLeader = await Assert.ThrowsAsync<RpcException>(() => m1.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = m1.Server.MemberId }).ResponseAsync);
        Assert.Equal("etcdserver: not leader", notLeader.Status.Detail);
        await m2.Maintenance.MoveLeaderAsync(new MoveLeaderRequest { TargetID = m1.Server.MemberId });
        await TestNet.WaitUntil(() => m1.Server.Leader == m1.Server.MemberId && m2.Server.Leader == m1.Server.MemberId, TimeSpan.FromSeconds(10), "m1 to lead again");

        var removed = await m1.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = m2.Server.MemberId });
        Assert.Single(removed.Members);
        // The removed member learns it (the ketch host then stops it, as etcd stops).
        await m2.Server.Removed.WaitAsync(TimeSpan.FromSeconds(10));
        var missing = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = m2.Server.MemberId }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, missing.StatusCode);
        Assert.Equal("etcdserver: member not found", missing.Status.Detail);
        await TestCluster.PutAsync(m1, "mb/after-remove", "v");

        await TestNet.WaitUntil(() => acked.Count >= 50, TimeSpan.FromSeconds(20), "the writer to get some puts through");
        await stopLoad.CancelAsync();
        await load;
        var stored = (await m1.Kv.RangeAsync(new RangeRequest { Key = B("ld/"), RangeEnd = B("ld0"), KeysOnly = true }))
            .Kvs.Select(kv => kv.Key.ToStringUtf8()).ToHashSet();
        Assert.All(acked, key => Assert.Contains(key, stored));
    }

    /// <summary>Wall-clock time stopped at one second (timers and timestamps run as usual): member
    /// ids of added members derive from the second of the add.</summary>
    private sealed class FrozenWallClock : TimeProvider
    {
        private readonly DateTimeOffset _now = DateTimeOffset.UtcNow;

        public override DateTimeOffset GetUtcNow() => _now;
    }

    [Fact]
    public async Task A_removed_member_id_is_never_added_again()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { TimeProvider = new FrozenWallClock() });
        var peer = $"http://127.0.0.19:{TestNet.FreePort("127.0.0.19")}";
        var added = await m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer }, IsLearner = true });
        await m.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = added.Member.ID });
        // The same URL in the same second gives the same id: refused as etcd refuses it (its
        // ErrIDRemoved reaches clients as "member not found"), also after a restart.
        var again = await Assert.ThrowsAsync<RpcException>(() => m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer }, IsLearner = true }).ResponseAsync);
        Assert.Equal(StatusCode.NotFound, again.StatusCode);
        Assert.Equal("etcdserver: member not found", again.Status.Detail);
        await m.RestartAsync();
        again = await Assert.ThrowsAsync<RpcException>(() => m.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { peer } }).ResponseAsync);
        Assert.Equal("etcdserver: member not found", again.Status.Detail);
        Assert.Single((await m.Cluster.MemberListAsync(new MemberListRequest())).Members);
    }

    [Fact]
    public async Task Strict_reconfig_check_refuses_a_voter_that_would_lose_quorum()
    {
        await using var c = await TestCluster.StartAsync(1);
        var m1 = await c.LeaderAsync();
        await TestNet.WaitUntil(async () => (await m1.Cluster.MemberListAsync(new MemberListRequest())).Members[0].Name.Length > 0,
            TimeSpan.FromSeconds(10), "m1 to publish its name");
        // A lone member may add a second voter (not started yet)...
        await m1.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.14:1" } });
        // ...but not a third while the second has not started: 1 started of 3 is no quorum.
        var e = await Assert.ThrowsAsync<RpcException>(() => m1.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.15:1" } }).ResponseAsync);
        Assert.Equal(StatusCode.FailedPrecondition, e.StatusCode);
        Assert.Equal("etcdserver: re-configuration failed due to not enough started members", e.Status.Detail);
    }

    [Fact]
    public async Task Strict_reconfig_check_wants_the_voters_connected()
    {
        var interval = TimeSpan.FromSeconds(1);
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { ReconfigHealthInterval = interval });
        var leader = await c.LeaderAsync();
        var (follower, stopped) = (c.Members.First(m => m != leader), c.Members.Last(m => m != leader));
        var others = c.Members.Where(m => m != leader).Select(m => m.Server.MemberId).ToList();
        await TestNet.WaitUntil(async () => (await leader.Cluster.MemberListAsync(new MemberListRequest())).Members.All(m => m.Name.Length > 0),
            TimeSpan.FromSeconds(10), "every member to publish its name");
        await TestNet.WaitUntil(() => others.All(id => leader.Server.Loop.PeerActiveSince(id) is { } t && t <= DateTimeOffset.UtcNow - interval),
            TimeSpan.FromSeconds(10), "the leader to be connected to both followers for the interval");
        // Connected to every voter: a member may be added (a learner here, removed again unchecked).
        var learner = await leader.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.16:1" }, IsLearner = true });
        await leader.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = learner.Member.ID });

        var stoppedId = stopped.Server.MemberId; // read before the stop, which lets the server go
        await stopped.StopAsync();
        await TestNet.WaitUntil(() => leader.Server.Loop.PeerActiveSince(stoppedId) is null,
            TimeSpan.FromSeconds(10), "the leader to see the stopped member's connections end");
        // Still 3 started voters (a quorum of 4), but one is down: etcd's ErrUnhealthy for any add...
        foreach (var isLearner in new[] { false, true })
        {
            var add = await Assert.ThrowsAsync<RpcException>(() => leader.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.17:1" }, IsLearner = isLearner }).ResponseAsync);
            Assert.Equal((StatusCode.Unavailable, "etcdserver: unhealthy cluster"), (add.StatusCode, add.Status.Detail));
        }
        // ...and for removing an active voter, which would leave 1 active of 2.
        var remove = await Assert.ThrowsAsync<RpcException>(() => leader.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = follower.Server.MemberId }).ResponseAsync);
        Assert.Equal((StatusCode.Unavailable, "etcdserver: unhealthy cluster"), (remove.StatusCode, remove.Status.Detail));
        // The member that is down is not part of the active quorum: it may go.
        var removed = await leader.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = stoppedId });
        Assert.Equal(2, removed.Members.Count);
    }

    [Fact]
    public async Task A_member_removed_while_down_is_refused_by_its_peers_when_it_comes_back()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { StrictReconfigCheck = false });
        var (leader, stopped, stoppedId) = await StopAFollowerAsync(c);
        await leader.Cluster.MemberRemoveAsync(new MemberRemoveRequest { ID = stoppedId });
        await TestCluster.PutAsync(leader, "rm/after", "v");

        // Its own log ends before its removal: only the peers can tell it, by refusing it.
        await stopped.StartFromDiskAsync();
        await stopped.Server.Removed.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0UL, stopped.Server.Leader);
        var survivors = c.Members.Where(m => m != stopped).ToList();
        Assert.All(survivors, m => Assert.False(m.Server.Removed.IsCompleted));
        await TestCluster.PutAsync(leader, "rm/still", "v");
    }

    [Fact]
    public async Task Without_strict_reconfig_check_a_member_is_added_with_a_voter_down()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { StrictReconfigCheck = false });
        var (leader, _, stoppedId) = await StopAFollowerAsync(c);
        await TestNet.WaitUntil(() => leader.Server.Loop.PeerActiveSince(stoppedId) is null,
            TimeSpan.FromSeconds(10), "the leader to see the stopped member's connections end");
        var added = await leader.Cluster.MemberAddAsync(new MemberAddRequest { PeerURLs = { "http://127.0.0.18:1" }, IsLearner = true });
        Assert.Equal(4, added.Members.Count);
    }

    /// <summary>Stops one follower of <paramref name="c"/> (its data stays); its id is read before the
    /// stop, which lets its server go.</summary>
    private static async Task<(TestMember Leader, TestMember Stopped, ulong StoppedId)> StopAFollowerAsync(TestCluster c)
    {
        var leader = await c.LeaderAsync();
        var stopped = c.Members.First(m => m != leader);
        var stoppedId = stopped.Server.MemberId;
        await stopped.StopAsync();
        return (leader, stopped, stoppedId);
    }
}
