using System.Text.RegularExpressions;

namespace Ketch.Server.Tests;

/// <summary>etcdctl's member and move-leader commands against a ketch cluster.</summary>
public sealed partial class EtcdctlClusterTests
{
    [Fact]
    public async Task Member_add_learner_promote_move_leader_remove_through_etcdctl()
    {
        Etcdctl.Require();
        // m1 is removed soon after k2 joins, which etcd's 5 s health interval would refuse: connected will do here.
        await using var c = await TestCluster.StartAsync(1, tweak: o => o with { ReconfigHealthInterval = TimeSpan.Zero });
        var m1 = await c.LeaderAsync();
        var ep = m1.ClientUrl.Replace("http://", "", StringComparison.Ordinal);
        var ip = "127.0.0.13";
        var client = $"http://{ip}:{TestNet.FreePort(ip)}";
        var peer = $"http://{ip}:{TestNet.FreePort(ip)}";
        var add = await Etcdctl.OkAsync(ep, $"member add k2 --learner --peer-urls={peer}");
        var id = AddedId().Match(add).Groups[1].Value;
        Assert.False(string.IsNullOrEmpty(id), add);
        Assert.Contains("ETCD_INITIAL_CLUSTER_STATE=\"existing\"", add, StringComparison.Ordinal);
        Assert.Contains($"k2={peer}", add, StringComparison.Ordinal);
        Assert.Contains("unstarted", await Etcdctl.OkAsync(ep, "member list"), StringComparison.Ordinal);

        using var dir = new TempDir();
        var o1 = m1.Options;
        await using var m2 = TestMember.Create(new KetchServerOptions
        {
            Name = "k2",
            DataDir = dir.Path,
            ListenClientUrls = [client],
            AdvertiseClientUrls = [client],
            ListenPeerUrls = [peer],
            InitialAdvertisePeerUrls = [peer],
            InitialCluster = $"{o1.Name}={o1.InitialAdvertisePeerUrls[0]},k2={peer}",
            InitialClusterState = "existing",
            InitialClusterToken = o1.InitialClusterToken,
            HeartbeatIntervalMs = 50,
            ElectionTimeoutMs = 500,
            ReconfigHealthInterval = TimeSpan.Zero,
        });
        await m2.StartAsync();
        await TestNet.WaitUntil(async () => (await Etcdctl.RunAsync(ep, $"member promote {id}", timeoutSeconds: 10)).Exit == 0,
            TimeSpan.FromSeconds(20), "etcdctl member promote");
        var list = await Etcdctl.OkAsync(ep, "member list");
        Assert.Matches($@"{id}, started, k2, {Regex.Escape(peer)}, {Regex.Escape(client)}, false", list);

        var move = await Etcdctl.OkAsync(ep, $"move-leader {id}");
        Assert.Contains($"Leadership transferred from", move, StringComparison.Ordinal);
        Assert.Contains($"to {id}", move, StringComparison.Ordinal);
        await TestNet.WaitUntil(() => m1.Server.Leader == m2.Server.MemberId, TimeSpan.FromSeconds(10), "m2 to lead");

        var ep2 = m2.ClientUrl.Replace("http://", "", StringComparison.Ordinal);
        Assert.Equal("OK\n", await Etcdctl.OkAsync(ep2, "put after-move v"));
        var removed = await Etcdctl.OkAsync(ep2, $"member remove {m1.Server.MemberId:x}");
        Assert.Contains("removed from cluster", removed, StringComparison.Ordinal);
        await TestNet.WaitUntil(async () => (await Etcdctl.OkAsync(ep2, "member list")).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length == 1,
            TimeSpan.FromSeconds(10), "one member left");
        Assert.Equal("after-move\nv\n", await Etcdctl.OkAsync(ep2, "get after-move"));
    }

    [GeneratedRegex(@"Member\s+([0-9a-f]+) added to cluster")]
    private static partial Regex AddedId();
}
