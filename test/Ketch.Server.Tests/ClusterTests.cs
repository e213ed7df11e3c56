using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

public sealed class ClusterTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    [Fact]
    public async Task Three_members_elect_replicate_and_serve_writes_on_any_member()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        Assert.Equal(3, (await leader.Cluster.MemberListAsync(new MemberListRequest())).Members.Count);
        for (var i = 0; i < c.Members.Count; i++)
        {
            await TestCluster.PutAsync(c.Members[i], $"c1/{i}", $"from-{i}");
        }
        foreach (var m in c.Members)
        {
            // Linearizable reads on followers see every acknowledged write.
            var r = await m.Kv.RangeAsync(new RangeRequest { Key = B("c1/"), RangeEnd = B("c10") });
            Assert.Equal(3, r.Count);
            Assert.Equal(m.Server.MemberId, r.Header.MemberId);
        }
        var list = await c.Members[0].Cluster.MemberListAsync(new MemberListRequest());
        await TestNet.WaitUntil(async () => (await c.Members[0].Cluster.MemberListAsync(new MemberListRequest())).Members.All(x => x.ClientURLs.Count == 1 && x.Name.Length > 0),
            TimeSpan.FromSeconds(10), "every member to publish its client URL");
        var hashes = new HashSet<uint>();
        var rev = (await leader.Kv.RangeAsync(new RangeRequest { Key = B("c1/0") })).Header.Revision;
        foreach (var m in c.Members)
        {
            await m.Kv.RangeAsync(new RangeRequest { Key = B("c1/0") });
            hashes.Add((await m.Maintenance.HashKVAsync(new HashKVRequest { Revision = rev })).Hash);
        }
        Assert.Single(hashes);
    }

    [Fact]
    public async Task Leader_killed_re_election_no_acknowledged_write_lost_and_restarted_member_catches_up()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var acked = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            await TestCluster.PutAsync(c.Members[i % 3], $"c2/{i:D3}", "v");
            acked.Add($"c2/{i:D3}");
        }
        await leader.StopAsync();
        var rest = c.Members.Where(m => m != leader).ToList();
        var newLeader = await c.LeaderAsync(rest);
        Assert.NotEqual(leader, newLeader);
        for (var i = 20; i < 40; i++)
        {
            await TestCluster.PutAsync(rest[i % 2], $"c2/{i:D3}", "v");
            acked.Add($"c2/{i:D3}");
        }
        foreach (var m in rest)
        {
            var r = await m.Kv.RangeAsync(new RangeRequest { Key = B("c2/"), RangeEnd = B("c20"), KeysOnly = true });
            Assert.Equal(acked, r.Kvs.Select(k => k.Key.ToStringUtf8()));
        }
        // The old leader comes back from its own disk and catches up.
        await leader.RestartAsync();
        await TestNet.WaitUntil(async () =>
            (await leader.Kv.RangeAsync(new RangeRequest { Key = B("c2/"), RangeEnd = B("c20"), CountOnly = true, Serializable = true })).Count == 40,
            TimeSpan.FromSeconds(20), "the restarted member to catch up");
        await c.LeaderAsync();
    }

    [Fact]
    public async Task Lease_keepalive_and_ttl_through_a_follower_and_expiry_by_the_leader()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var follower = c.Members.First(m => m != leader);
        await TestNet.WaitUntil(async () => (await follower.Cluster.MemberListAsync(new MemberListRequest())).Members.All(x => x.ClientURLs.Count == 1),
            TimeSpan.FromSeconds(10), "client URLs published");
        var grant = await follower.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 5 });
        await follower.Kv.PutAsync(new PutRequest { Key = B("c3/k"), Value = B("v"), Lease = grant.ID });
        using (var ka = follower.Lease.LeaseKeepAlive())
        {
            await ka.RequestStream.WriteAsync(new LeaseKeepAliveRequest { ID = grant.ID });
            Assert.True(await ka.ResponseStream.MoveNext(CancellationToken.None));
            Assert.Equal(5, ka.ResponseStream.Current.TTL);
            await ka.RequestStream.CompleteAsync();
        }
        var ttl = await follower.Lease.LeaseTimeToLiveAsync(new LeaseTimeToLiveRequest { ID = grant.ID, Keys = true });
        Assert.Equal(5, ttl.GrantedTTL);
        Assert.Single(ttl.Keys);
        await TestNet.WaitUntil(async () => (await follower.Kv.RangeAsync(new RangeRequest { Key = B("c3/k") })).Count == 0,
            TimeSpan.FromSeconds(20), "the leader to expire the lease");

        // /metrics, as etcd counts: every member applied the grant and the revocation, the leader
        // served the renewal (forwarded by the follower) and counts the expiry once.
        using var http = new HttpClient();
        var onLeader = await http.GetStringAsync(leader.ClientUrl + "/metrics");
        Assert.Equal(1, PrometheusText.Value(onLeader, "etcd_debugging_lease_granted_total"));
        Assert.Equal(1, PrometheusText.Value(onLeader, "etcd_debugging_lease_renewed_total"));
        Assert.Equal(1, PrometheusText.Value(onLeader, "etcd_debugging_lease_revoked_total"));
        Assert.Equal(1, PrometheusText.Value(onLeader, "etcd_debugging_server_lease_expired_total"));
        Assert.Equal(5, PrometheusText.Value(onLeader, "etcd_debugging_lease_ttl_total_sum"));
        var onFollower = await http.GetStringAsync(follower.ClientUrl + "/metrics");
        Assert.Equal(1, PrometheusText.Value(onFollower, "etcd_debugging_lease_granted_total"));
        Assert.Equal(1, PrometheusText.Value(onFollower, "etcd_debugging_lease_revoked_total"));
        Assert.Equal(0, PrometheusText.Value(onFollower, "etcd_debugging_lease_renewed_total"));
        Assert.Equal(0, PrometheusText.Value(onFollower, "etcd_debugging_server_lease_expired_total"));
    }

    [Fact]
    public async Task A_member_of_another_cluster_is_refused()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        await TestCluster.PutAsync(leader, "c4/a", "1");
        var term = (await leader.Maintenance.StatusAsync(new StatusRequest())).RaftTerm;
        // A stranger bootstrapped with the same names and peer URLs under another token: a
        // different cluster id. It campaigns at ever higher terms; our members must ignore it.
        using var dir = new TempDir();
        var m1 = c.Members[0].Options;
        var strangerIp = "127.0.0.21";
        var sClient = $"http://{strangerIp}:{TestNet.FreePort(strangerIp)}";
        var sPeer = $"http://{strangerIp}:{TestNet.FreePort(strangerIp)}";
        var initial = $"{m1.Name}={m1.InitialAdvertisePeerUrls[0]},x={sPeer}";
        var stranger = new KetchServer(new KetchServerOptions
        {
            Name = "x",
            DataDir = dir.Path,
            ListenClientUrls = [sClient],
            AdvertiseClientUrls = [sClient],
            ListenPeerUrls = [sPeer],
            InitialAdvertisePeerUrls = [sPeer],
            InitialCluster = initial,
            InitialClusterToken = "another-cluster",
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 250,
            PreVote = false, // so its failed elections raise its term, the disruption to refuse
        });
        await using (stranger)
        {
            await stranger.StartAsync();
            await TestNet.WaitUntil(() => stranger.Loop.Term >= term + 3, TimeSpan.FromSeconds(20), "the stranger to campaign past our term");
            Assert.Equal(0UL, stranger.Leader);
            Assert.True(c.Members[0].Server.Transport!.RefusedForeign > 0, "member 1 never saw the stranger");
        }
        var after = await leader.Maintenance.StatusAsync(new StatusRequest());
        Assert.Equal(term, after.RaftTerm);
        Assert.Equal(leader.Server.MemberId, after.Leader);
        await TestCluster.PutAsync(leader, "c4/b", "2");
    }

    [Fact]
    public async Task Reads_that_meet_the_store_being_replaced_by_a_snapshot_read_the_new_store()
    {
        // A chaos run saw serializable ranges fail with "Exception was thrown by handler"
        // (ObjectDisposedException) while a member installed a snapshot from its leader.
        TestMember? lagging = null;
        Task<RangeResponse>? read = null;
        var armed = 0;
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with
        {
            SnapshotCount = 20,
            SnapshotCatchUpEntries = 5,
            WhileStoreClosedForTests = () =>
            {
                if (lagging is { } m && Interlocked.Exchange(ref armed, 0) == 1)
                {
                    // A client's read arrives while the old store is closed and the new one not open.
                    // The store stays closed until the read is answered, or for 2 s: a read that
                    // waits for the new store (as it must) cannot be answered before, and a read
                    // that fails is answered at once. (A first call over a new connection takes
                    // well under 2 s; were it slower, the read would meet the new store and pass.)
                    read = Task.Run(() => m.Kv.RangeAsync(new RangeRequest { Key = B("c6/"), RangeEnd = B("c60"), CountOnly = true, Serializable = true }).ResponseAsync);
                    Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(2))).GetAwaiter().GetResult();
                }
            },
        });
        var leader = await c.LeaderAsync();
        lagging = c.Members.First(m => m != leader);
        await lagging.StopAsync();
        for (var i = 0; i < 60; i++)
        {
            await leader.Kv.PutAsync(new PutRequest { Key = B($"c6/{i:D3}"), Value = B("v") });
        }
        Volatile.Write(ref armed, 1);
        await lagging.RestartAsync();
        await TestNet.WaitUntil(() => Volatile.Read(ref read) is not null, TimeSpan.FromSeconds(30), "the snapshot install");
        var r = await read!.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(60, r.Count);
    }

    [Fact]
    public async Task A_member_far_behind_a_compacted_log_catches_up_by_snapshot()
    {
        await using var c = await TestCluster.StartAsync(3, tweak: o => o with { SnapshotCount = 20, SnapshotCatchUpEntries = 5 });
        var leader = await c.LeaderAsync();
        var lagging = c.Members.First(m => m != leader);
        await TestCluster.PutAsync(leader, "c5/before", "v");
        await lagging.StopAsync();
        var lease = await leader.Lease.LeaseGrantAsync(new LeaseGrantRequest { TTL = 600 });
        for (var i = 0; i < 120; i++)
        {
            await leader.Kv.PutAsync(new PutRequest { Key = B($"c5/{i:D3}"), Value = B("v"), Lease = i == 0 ? lease.ID : 0 });
        }
        await lagging.RestartAsync();
        // A watcher opened on the lagging member before (or while) it installs the snapshot keeps
        // working on the new store.
        using var watch = lagging.Watch.Watch();
        await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("c5/after") } });
        Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        Assert.True(watch.ResponseStream.Current.Created);
        await TestNet.WaitUntil(async () =>
            (await lagging.Kv.RangeAsync(new RangeRequest { Key = B("c5/"), RangeEnd = B("c50"), CountOnly = true, Serializable = true })).Count == 121,
            TimeSpan.FromSeconds(30), "the lagging member to install a snapshot and catch up");
        // It came as a streamed store snapshot, kept in a file (not a log replay).
        Assert.Single(Directory.GetFiles(Path.Combine(lagging.Options.DataDir, "member", "snap-in")));
        // What came with the snapshot: leases and the members; and the member keeps applying.
        await TestCluster.PutAsync(leader, "c5/after", "v");
        await TestNet.WaitUntil(async () =>
            (await lagging.Kv.RangeAsync(new RangeRequest { Key = B("c5/after"), Serializable = true })).Count == 1,
            TimeSpan.FromSeconds(10), "the entry after the snapshot");
        using (var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10)))
        {
            Assert.True(await watch.ResponseStream.MoveNext(cts.Token));
            Assert.Equal("c5/after", Assert.Single(watch.ResponseStream.Current.Events).Kv.Key.ToStringUtf8());
        }
        var leases = await lagging.Lease.LeaseLeasesAsync(new LeaseLeasesRequest());
        Assert.Contains(leases.Leases, l => l.ID == lease.ID);
        Assert.Equal(3, (await lagging.Cluster.MemberListAsync(new MemberListRequest())).Members.Count);
        var rev = (await leader.Kv.RangeAsync(new RangeRequest { Key = B("c5/after") })).Header.Revision;
        var h1 = await leader.Maintenance.HashKVAsync(new HashKVRequest { Revision = rev });
        var h2 = await lagging.Maintenance.HashKVAsync(new HashKVRequest { Revision = rev });
        Assert.Equal(h1.Hash, h2.Hash);

        // What an operator sees on /metrics: the transfer on both ends, the saved .snap.db, and the
        // key count of the installed store.
        using var http = new HttpClient();
        var hex = (TestMember m) => m.Server.MemberId.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
        var received = await http.GetStringAsync(lagging.ClientUrl + "/metrics");
        Assert.True(PrometheusText.Value(received, $"etcd_network_snapshot_receive_success{{From=\"{hex(leader)}\"}}") >= 1);
        Assert.Equal(0, PrometheusText.Value(received, $"etcd_network_snapshot_receive_inflights_total{{From=\"{hex(leader)}\"}}"));
        Assert.True(PrometheusText.Value(received, "etcd_snap_db_save_total_duration_seconds_count") >= 1);
        Assert.Equal(0, PrometheusText.Value(received, "etcd_server_snapshot_apply_in_progress_total"));
        Assert.Equal(122, PrometheusText.Value(received, "etcd_debugging_mvcc_keys_total"));
        var sent = await http.GetStringAsync(leader.ClientUrl + "/metrics");
        Assert.True(PrometheusText.Value(sent, $"etcd_network_snapshot_send_success{{To=\"{hex(lagging)}\"}}") >= 1);
        Assert.True(PrometheusText.Value(sent, $"etcd_network_snapshot_send_total_duration_seconds_count{{To=\"{hex(lagging)}\"}}") >= 1);
        Assert.Equal(122, PrometheusText.Value(sent, "etcd_debugging_mvcc_keys_total"));

        // Restarted, it comes back from its own disk with the installed store.
        await lagging.RestartAsync();
        var count = await lagging.Kv.RangeAsync(new RangeRequest { Key = B("c5/"), RangeEnd = B("c50"), CountOnly = true, Serializable = true });
        Assert.Equal(122, count.Count);

        // Once the member takes a snapshot of its own past the received one, the file goes.
        for (var i = 0; i < 25; i++)
        {
            await TestCluster.PutAsync(leader, $"c6/{i:D3}", "v");
        }
        await TestNet.WaitUntil(() => Directory.GetFiles(Path.Combine(lagging.Options.DataDir, "member", "snap-in")).Length == 0,
            TimeSpan.FromSeconds(20), "the received snapshot's file to be deleted after a local snapshot");
    }

    [Fact]
    public async Task Leader_killed_under_concurrent_load_loses_no_acknowledged_write()
    {
        await using var c = await TestCluster.StartAsync(3);
        var leader = await c.LeaderAsync();
        var acked = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var stop = new CancellationTokenSource();
        var writers = Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var m = c.Members[(w + i) % 3];
                var key = $"load/{w}/{i:D5}";
                try
                {
                    await m.Kv.PutAsync(new PutRequest { Key = B(key), Value = B("v") }, deadline: DateTime.UtcNow.AddSeconds(3));
                    acked.Add(key);
                }
                catch (RpcException)
                {
                    // refused or unknown outcome: not acknowledged
                }
                catch (ObjectDisposedException)
                {
                }
            }
        })).ToList();
        await TestNet.WaitUntil(() => acked.Count >= 100, TimeSpan.FromSeconds(30), "writes before the kill");
        await leader.StopAsync();
        var rest = c.Members.Where(m => m != leader).ToList();
        await c.LeaderAsync(rest);
        var atKill = acked.Count;
        await TestNet.WaitUntil(() => acked.Count >= atKill + 100, TimeSpan.FromSeconds(30), "writes after re-election");
        await stop.CancelAsync();
        await Task.WhenAll(writers);
        foreach (var m in rest)
        {
            var r = await m.Kv.RangeAsync(new RangeRequest { Key = B("load/"), RangeEnd = B("load0"), KeysOnly = true });
            var present = r.Kvs.Select(k => k.Key.ToStringUtf8()).ToHashSet();
            var lost = acked.Where(k => !present.Contains(k)).ToList();
            Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost, e.g. {string.Join(", ", lost.Take(5))}");
        }
    }
}
