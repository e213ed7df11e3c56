using System.Globalization;
using System.Text.RegularExpressions;
using Grpc.Core;
using Ketch.Client;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><see cref="CtlFixture"/> with two members (real etcd): enough for membership changes, a leader to move
/// and <c>--cluster</c> to list more than one endpoint, and cheaper than three.</summary>
public class ClusterCtlFixture : CtlFixture
{
    protected override int Members => 2;
}

/// <summary><see cref="ClusterCtlFixture"/> on two ketch members.</summary>
public sealed class KetchClusterCtlFixture : ClusterCtlFixture
{
    protected override IClusterProvider Provider => KetchClusterProvider.Instance;
}

/// <summary>ketchctl against etcdctl on a cluster of two: the same command on the same server, outputs compared
/// (masking what must differ: a new member's id, durations, the order of concurrent results). Commands that
/// change the cluster are run once by each tool, one undoing what the other did. Runs against real etcd
/// (<see cref="EtcdClusterCompatibilityTests"/>) and against ketch (<see cref="KetchClusterCompatibilityTests"/>).</summary>
public abstract partial class ClusterCompatibilityTests(CtlFixture f)
{
    private string AllEndpoints => "--endpoints=" + string.Join(",", f.Cluster.Endpoints);

    [Fact]
    public async Task Member_add_update_promote_and_remove_match()
    {
        using var client = new KetchClient(f.Endpoint);
        await WaitReconfigurableAsync(client);
        var peer = $"http://127.0.0.1:{Tools.FreePort()}";
        var members = await client.Cluster.MemberListAsync();
        var self = Hex(members.Header.MemberId);

        // Errors of the arguments and of the server, byte for byte.
        string[][] errors =
        [
            ["member", "add", "a", "b"], ["member", "add", "a", "http://127.0.0.1:1"], ["member", "add", "a", "--peer-urls="],
            ["member", "add", "a", "--peer-urls=notaurl"], ["member", "add", "a", "--peer-urls=http://127.0.0.1"],
            ["member", "add", "a", "--peer-urls=http://127.0.0.1:1/path"], ["member", "update", "1", "--peer-urls=127.0.0.1:1"],
            ["member", "add", "a", "--peer-urls=" + members.Members[0].PeerURLs[0]],
            ["member", "update"], ["member", "update", "1"], ["member", "update", "zz", "--peer-urls=" + peer],
            ["member", "update", "1", "--peer-urls=" + peer], ["member", "promote"], ["member", "promote", "zz"],
            ["member", "promote", self], ["member", "promote", "1"], ["member", "remove", "1"],
        ];
        foreach (var args in errors)
        {
            await f.SameAsync(args);
        }

        foreach (var learner in new[] { false, true })
        {
            // etcd derives a member's id from its peer URLs and the time in seconds, and refuses a removed id:
            // each add takes a peer URL of its own.
            var (peerA, peerB) = ($"http://127.0.0.1:{Tools.FreePort()}", $"http://127.0.0.1:{Tools.FreePort()}");
            string[] Add(string url) => ["member", "add", "newbie", "--peer-urls=" + url, .. learner ? new[] { "--learner" } : []];
            // etcdctl adds the member, both tools list, update and (a learner not in sync) fail to promote it,
            // ketchctl removes it; then ketchctl adds another and etcdctl removes it.
            var a = await f.EtcdctlAsync(Add(peerA));
            var idA = AddedId(a);
            // etcdctl 3.4 says "added to cluster" for a learner too (3.5 says "added as learner").
            Assert.Contains(" added to cluster ", a.Stdout, StringComparison.Ordinal);
            await f.SameAsync(["member", "list"]);
            await f.SameAsync(["member", "list", "-w", "json"]);
            await f.SameAsync(["member", "update", idA, "--peer-urls=" + peerA]);
            if (learner)
            {
                // The learner never started, so it is not in sync with the leader: both report the server's refusal.
                var (refused, _) = await f.SameAsync(["member", "promote", idA]);
                Assert.Equal("Error: etcdserver: can only promote a learner member which is in sync with leader", refused.Errors.Trim());
            }
            var removedByKetchctl = await f.KetchctlAsync(["member", "remove", idA]);
            var b = await f.KetchctlAsync(Add(peerB));
            var idB = AddedId(b);
            var removedByEtcdctl = await f.EtcdctlAsync(["member", "remove", idB]);

            Assert.Equal(Shape(a.Stdout, idA).Replace(peerA, "PEER", StringComparison.Ordinal), Shape(b.Stdout, idB).Replace(peerB, "PEER", StringComparison.Ordinal));
            Assert.Equal((a.Errors, a.ExitCode), (b.Errors, b.ExitCode));
            Assert.Equal(Shape(removedByEtcdctl.Stdout, idB), Shape(removedByKetchctl.Stdout, idA));
            Assert.Equal((0, 0, "", ""), (removedByEtcdctl.ExitCode, removedByKetchctl.ExitCode, removedByEtcdctl.Errors, removedByKetchctl.Errors));
            Assert.Matches("^Member +[0-9a-f]+ removed from cluster +[0-9a-f]+\n$", removedByKetchctl.Stdout);
        }
        Assert.Equal(2, (await client.Cluster.MemberListAsync()).Members.Count);

        // The new member's id is random; the members of ETCD_INITIAL_CLUSTER are in the order of their ids.
        static string Shape(string s, string id)
        {
            // %16x pads with spaces: a shorter id has more of them.
            s = Regex.Replace(s, " +" + id + " ", " NEW ");
            return InitialCluster().Replace(s, m => $"ETCD_INITIAL_CLUSTER=\"{string.Join(",", m.Groups[1].Value.Split(',').Order(StringComparer.Ordinal))}\"");
        }
    }

    [Fact]
    public async Task Endpoint_health_status_and_hashkv_of_the_whole_cluster_match()
    {
        foreach (var format in new[] { "simple", "json", "table", "fields" })
        {
            var (hashA, _) = await f.SameAsync(["endpoint", "hashkv", "--cluster", "-w", format]);
            var (statusA, _) = await f.SameAsync(["endpoint", "status", "--cluster", "-w", format]);
            foreach (var ep in f.Cluster.Endpoints)
            {
                Assert.Contains("http://" + ep, hashA.Stdout, StringComparison.Ordinal);
                Assert.Contains("http://" + ep, statusA.Stdout, StringComparison.Ordinal);
            }
            // Health checks run concurrently and are listed as they finish: compare the lines in any order.
            var a = await f.EtcdctlAsync(["endpoint", "health", "--cluster", "-w", format]);
            var b = await f.KetchctlAsync(["endpoint", "health", "--cluster", "-w", format]);
            Assert.Equal(HealthShape(a.Stdout), HealthShape(b.Stdout));
            Assert.Equal(HealthShape(a.Errors), HealthShape(b.Errors));
            Assert.Equal((0, 0), (a.ExitCode, b.ExitCode));
            Assert.Equal(f.Cluster.Endpoints.Count, Regex.Matches(a.Stdout + a.Errors, "http://").Count);
        }

        static string HealthShape(string s)
        {
            s = Regex.Replace(CtlFixture.Mask(s), "[ -]+", " ");
            var parts = s.StartsWith('[') ? Regex.Matches(s, "\\{[^{}]*\\}").Select(m => m.Value) : s.Split('\n');
            return string.Join("\n", parts.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public async Task Move_leader_transfers_leadership_and_prints_as_etcdctl_does()
    {
        var (leader, follower, _) = await RolesAsync();
        var a = await Clis.EtcdctlAsync([AllEndpoints, "move-leader", Hex(follower)]);
        Assert.Equal(($"Leadership transferred from {Hex(leader)} to {Hex(follower)}\n", "", 0), (a.Stdout, a.Errors, a.ExitCode));
        // And back, by ketchctl.
        var (leader2, _, _) = await RolesAsync();
        Assert.Equal(follower, leader2);
        var b = await Clis.KetchctlAsync([AllEndpoints, "move-leader", Hex(leader)]);
        Assert.Equal(($"Leadership transferred from {Hex(follower)} to {Hex(leader)}\n", "", 0), (b.Stdout, b.Errors, b.ExitCode));
        var (leader3, _, followerEndpoint) = await RolesAsync();
        Assert.Equal(leader, leader3);

        // No leader among the endpoints given, a transferee that is not a member, an id that is not hexadecimal.
        await SameAsync(["--endpoints=" + followerEndpoint, "move-leader", Hex(leader)]);
        await SameAsync([AllEndpoints, "move-leader", "abc"]);
        await SameAsync([AllEndpoints, "move-leader", "zz"]);
    }

    /// <summary>Both tools with the arguments as given (endpoints included): equal stdout, errors and exit code.</summary>
    private static async Task SameAsync(string[] args)
    {
        var a = await Clis.EtcdctlAsync(args);
        var b = await Clis.KetchctlAsync(args);
        Assert.True((a.Stdout, a.Errors, a.ExitCode) == (b.Stdout, b.Errors, b.ExitCode),
            $"`{string.Join(' ', args)}` differs:\n--- etcdctl ({a.ExitCode})\n{a.Stdout}{a.Errors}\n--- ketchctl ({b.ExitCode})\n{b.Stdout}{b.Errors}");
    }

    /// <summary>The leader, a follower and that follower's endpoint, once every member agrees on the leader.</summary>
    private async Task<(ulong Leader, ulong Follower, string FollowerEndpoint)> RolesAsync()
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var status = new List<(string Endpoint, ulong Self, ulong Leader)>();
            foreach (var ep in f.Cluster.Endpoints)
            {
                using var c = new KetchClient(ep);
                var s = await c.Maintenance.StatusAsync();
                status.Add((ep, s.Header.MemberId, s.Leader));
            }
            var leader = status[0].Leader;
            if (leader != 0 && status.All(s => s.Leader == leader) && status.Any(s => s.Self == leader))
            {
                var follower = status.First(s => s.Self != leader);
                return (leader, follower.Self, follower.Endpoint);
            }
            Assert.True(DateTime.UtcNow < deadline, "the members do not agree on a leader");
            await Task.Delay(50);
        }
    }

    /// <summary>etcd (and ketch) refuse a membership change as "unhealthy cluster" until the member has been
    /// connected to every voter for 5 s: after the cluster starts, poll with a learner added and removed at once.</summary>
    private static async Task WaitReconfigurableAsync(KetchClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var r = await client.Cluster.MemberAddAsync([$"http://127.0.0.1:{Tools.FreePort()}"], isLearner: true);
                await client.Cluster.MemberRemoveAsync(r.Member.ID);
                return;
            }
            catch (RpcException ex) when (ex.Status.Detail == "etcdserver: unhealthy cluster" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(250);
            }
        }
    }

    /// <summary>The id in etcdctl's <c>Member %16x added ...</c> line.</summary>
    private static string AddedId(Run r)
    {
        var m = Regex.Match(r.Stdout, "^Member +([0-9a-f]+) added");
        Assert.True(m.Success, $"no member added:\n{r.Stdout}{r.Stderr}");
        return m.Groups[1].Value;
    }

    /// <summary>An id as Go's <c>types.ID</c> prints it: hexadecimal, no padding.</summary>
    private static string Hex(ulong id) => id.ToString("x", CultureInfo.InvariantCulture);

    [GeneratedRegex("ETCD_INITIAL_CLUSTER=\"([^\"]*)\"")]
    private static partial Regex InitialCluster();
}

/// <summary><see cref="ClusterCompatibilityTests"/> on two etcd members.</summary>
public sealed class EtcdClusterCompatibilityTests(ClusterCtlFixture f) : ClusterCompatibilityTests(f), IClassFixture<ClusterCtlFixture>;

/// <summary><see cref="ClusterCompatibilityTests"/> on two ketch members.</summary>
public sealed class KetchClusterCompatibilityTests(KetchClusterCtlFixture f) : ClusterCompatibilityTests(f), IClassFixture<KetchClusterCtlFixture>;
