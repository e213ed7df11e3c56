using Ketch.Client;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary>
/// etcdctl watches with clientv3's <c>WithRequireLeader</c>: when the member it watches on loses its
/// leader, the member ends the watch ("etcdserver: no leader") after a few election timeouts and
/// etcdctl exits. ketchctl must do the same, on real etcd and on ketch alike: a 2-member cluster
/// whose second member is killed leaves the first without a leader.
/// </summary>
public sealed class WatchLeaderLossTests
{
    public static TheoryData<string> Kinds => new() { "etcd", "ketch" };

    private static async Task<double> MetricAsync(HttpClient http, string endpoint, string name)
    {
        var text = await http.GetStringAsync($"http://{endpoint}/metrics");
        var line = text.Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? -1 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }

    private static string WithoutLogLines(string stderr) =>
        string.Join('\n', stderr.Split('\n').Where(l => !l.StartsWith("{\"level\"", StringComparison.Ordinal)));

    [Theory]
    [MemberData(nameof(Kinds))]
    public async Task Watch_on_a_member_that_loses_its_leader_ends_as_etcdctls(string kind)
    {
        Tools.Require("etcdctl", "etcd-client");
        IClusterProvider provider = kind == "etcd" ? EtcdClusterProvider.Instance : KetchClusterProvider.Instance;
        await using var cluster = await provider.StartAsync(2);
        var endpoint = cluster.Endpoints[0];
        await using var etcdctl = LiveRun.Etcdctl(endpoint, ["watch", "w/k"]);
        await using var ketchctl = LiveRun.Ketchctl(endpoint, ["watch", "w/k"]);
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (await MetricAsync(http, endpoint, "etcd_debugging_mvcc_watcher_total") < 2)
        {
            Assert.True(DateTime.UtcNow < deadline, "the two watchers were not registered");
            await Task.Delay(20);
        }
        using (var client = new KetchClient(endpoint))
        {
            await client.Kv.PutAsync("w/k", "v");
        }
        await etcdctl.WaitForAsync((o, _) => o.Length > 0, "etcdctl's event");
        await ketchctl.WaitForAsync((o, _) => o.Length > 0, "ketchctl's event");

        await cluster.KillAsync(1);
        var etcdctlExit = await etcdctl.ExitAsync(60);
        var ketchctlExit = await ketchctl.ExitAsync(60);

        Assert.Equal("PUT\nw/k\nv\n", etcdctl.Stdout);
        Assert.Equal("watch was canceled (etcdserver: no leader)\nError: watch is canceled by the server\n", WithoutLogLines(etcdctl.Stderr));
        Assert.Equal(5, etcdctlExit);
        Assert.Equal((etcdctl.Stdout, WithoutLogLines(etcdctl.Stderr), etcdctlExit), (ketchctl.Stdout, ketchctl.Stderr, ketchctlExit));
    }
}
