using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>The /metrics series the usual etcd alerts and dashboards read, beyond the basics in
/// <see cref="HttpTests"/>: gRPC calls by method and code, backend commits, quota, health checks.</summary>
public sealed class MetricsTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    private static double Value(string metrics, string series) =>
        double.Parse(metrics.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], CultureInfo.InvariantCulture);

    private static double ValueOr0(string metrics, string series) =>
        metrics.Split('\n').Any(l => l.StartsWith(series + " ", StringComparison.Ordinal)) ? Value(metrics, series) : 0;

    [Fact]
    public async Task Peer_traffic_round_trips_and_failures_are_counted_per_peer()
    {
        await using var cluster = await TestCluster.StartAsync(3, tweak: o => o with { PeerProbeInterval = TimeSpan.FromMilliseconds(100) });
        var leader = await cluster.LeaderAsync();
        await TestCluster.PutAsync(leader, "met/peer", "v");
        var followers = cluster.Members.Where(m => m != leader).ToList();
        string Id(TestMember m) => m.Server.MemberId.ToString("x", CultureInfo.InvariantCulture);
        var local = Id(leader);
        using var http = new HttpClient();
        var metrics = "";
        await TestNet.WaitUntil(async () =>
        {
            metrics = await http.GetStringAsync(leader.ClientUrl + "/metrics");
            return followers.All(f =>
                ValueOr0(metrics, $"etcd_network_peer_sent_bytes_total{{To=\"{Id(f)}\"}}") > 0
                && ValueOr0(metrics, $"etcd_network_peer_received_bytes_total{{From=\"{Id(f)}\"}}") > 0
                && ValueOr0(metrics, $"etcd_network_active_peers{{Local=\"{local}\",Remote=\"{Id(f)}\"}}") == 1
                && ValueOr0(metrics, $"etcd_network_peer_round_trip_time_seconds_count{{To=\"{Id(f)}\"}}") >= 1);
        }, TimeSpan.FromSeconds(20), "the leader's peer series for both followers");
        // A round trip on loopback is far below a second: the 1.6384 s bucket holds every probe.
        var f0 = Id(followers[0]);
        Assert.Equal(Value(metrics, $"etcd_network_peer_round_trip_time_seconds_count{{To=\"{f0}\"}}"),
            Value(metrics, $"etcd_network_peer_round_trip_time_seconds_bucket{{To=\"{f0}\",le=\"1.6384\"}}"));

        // A stopped follower: the leader's messages to it fail and its stream goes inactive.
        await followers[0].StopAsync();
        await TestNet.WaitUntil(async () =>
        {
            metrics = await http.GetStringAsync(leader.ClientUrl + "/metrics");
            return ValueOr0(metrics, $"etcd_network_peer_sent_failures_total{{To=\"{f0}\"}}") > 0
                && ValueOr0(metrics, $"etcd_network_active_peers{{Local=\"{local}\",Remote=\"{f0}\"}}") == 0
                && ValueOr0(metrics, $"etcd_network_disconnected_peers_total{{Local=\"{local}\",Remote=\"{f0}\"}}") >= 1;
        }, TimeSpan.FromSeconds(20), "the stopped follower's send failures and disconnection");
        var f1 = Id(followers[1]);
        Assert.Equal(1, Value(metrics, $"etcd_network_active_peers{{Local=\"{local}\",Remote=\"{f1}\"}}"));
    }

    [Fact]
    public async Task Grpc_calls_are_counted_by_method_and_code_and_histograms_only_with_extensive()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { QuotaBackendBytes = 64L << 20 });
        using var http = new HttpClient();
        for (var i = 0; i < 3; i++)
        {
            await m.Kv.PutAsync(new PutRequest { Key = B($"met/{i}"), Value = B("v") });
        }
        var future = await Assert.ThrowsAsync<RpcException>(() => m.Kv.RangeAsync(new RangeRequest { Key = B("met/0"), Revision = 1_000_000 }).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, future.StatusCode);
        await http.GetAsync(m.ClientUrl + "/health");
        m.Server.Loop.Kv.Commit(); // the backend commits by timer too; one now for certain

        var metrics = await http.GetStringAsync(m.ClientUrl + "/metrics");
        const string put = "grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
        const string range = "grpc_method=\"Range\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
        Assert.True(Value(metrics, "grpc_server_started_total{" + put + "}") >= 3);
        Assert.True(Value(metrics, "grpc_server_handled_total{grpc_code=\"OK\"," + put + "}") >= 3);
        Assert.Equal(1, Value(metrics, "grpc_server_handled_total{grpc_code=\"OutOfRange\"," + range + "}"));
        Assert.Equal(64L << 20, Value(metrics, "etcd_server_quota_backend_bytes"));
        Assert.True(Value(metrics, "etcd_server_health_success") >= 1);
        Assert.True(Value(metrics, "etcd_disk_backend_commit_duration_seconds_count") >= 1);
        Assert.DoesNotContain("grpc_server_handling_seconds", metrics, StringComparison.Ordinal); // etcd's basic level

        await using var extensive = await TestMember.StartSingleAsync(o => o with { ExtensiveMetrics = true });
        await extensive.Kv.PutAsync(new PutRequest { Key = B("met/x"), Value = B("v") });
        var detailed = await http.GetStringAsync(extensive.ClientUrl + "/metrics");
        Assert.True(Value(detailed, "grpc_server_handling_seconds_count{" + put + "}") >= 1);
        Assert.Contains("grpc_server_handling_seconds_bucket{" + put + ",le=\"0.005\"}", detailed, StringComparison.Ordinal);
    }
}
