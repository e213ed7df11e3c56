using static Ketch.Server.Tests.PrometheusText;
using System.Globalization;
using Google.Protobuf;
using Grpc.Core;
using Google.Protobuf.Reflection;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>The /metrics series the usual etcd alerts and dashboards read, beyond the basics in
/// <see cref="HttpTests"/>: gRPC calls by method and code, backend commits, quota, health checks.</summary>
public sealed class MetricsTests
{
    private static ByteString B(string s) => ByteString.CopyFromUtf8(s);

    /// <summary>The gRPC services a member serves, as a client sees them.</summary>
    private static readonly ServiceDescriptor[] Services =
    [
        global::Ketch.Api.Etcdserverpb.KV.Descriptor, global::Ketch.Api.Etcdserverpb.Watch.Descriptor,
        global::Ketch.Api.Etcdserverpb.Lease.Descriptor, global::Ketch.Api.Etcdserverpb.Cluster.Descriptor,
        global::Ketch.Api.Etcdserverpb.Maintenance.Descriptor, global::Ketch.Api.Etcdserverpb.Auth.Descriptor,
        global::Ketch.Api.V3electionpb.Election.Descriptor, global::Ketch.Api.V3lockpb.Lock.Descriptor,
        global::Grpc.Health.V1.Health.Descriptor,
    ];

    private static string Labels(string service, string method, string type) =>
        $"grpc_method=\"{method}\",grpc_service=\"{service}\",grpc_type=\"{type}\"";

    private const string PutLabels = "grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
    private const string RangeLabels = "grpc_method=\"Range\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
    private const string WatchLabels = "grpc_method=\"Watch\",grpc_service=\"etcdserverpb.Watch\",grpc_type=\"bidi_stream\"";

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

    [Fact]
    public async Task A_fresh_member_lists_every_served_method_with_zero_for_every_code()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { ExtensiveMetrics = true });
        using var http = new HttpClient();
        var metrics = await http.GetStringAsync(m.ClientUrl + "/metrics");

        // As etcd lists them before any call: etcd 3.4 its 41 methods; we list those, etcd 3.5's
        // Maintenance.Downgrade and Auth.AuthStatus, and Election's and Lock's.
        Assert.Contains("\ngrpc_server_started_total{grpc_method=\"Compact\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"} 0\n", metrics, StringComparison.Ordinal);
        Assert.Contains("\ngrpc_server_handled_total{grpc_code=\"Canceled\"," + WatchLabels + "} 0\n", metrics, StringComparison.Ordinal);
        Assert.Contains("\ngrpc_server_handled_total{grpc_code=\"DeadlineExceeded\"," + RangeLabels + "} 0\n", metrics, StringComparison.Ordinal);
        Assert.Equal(0, Value(metrics, "grpc_server_msg_received_total{" + Labels("etcdserverpb.Maintenance", "Snapshot", "server_stream") + "}"));
        Assert.Equal(0, Value(metrics, "grpc_server_msg_sent_total{" + Labels("etcdserverpb.Lease", "LeaseKeepAlive", "bidi_stream") + "}"));
        Assert.Equal(0, Value(metrics, "grpc_server_started_total{" + Labels("grpc.health.v1.Health", "Watch", "server_stream") + "}"));
        Assert.Equal(0, Value(metrics, "grpc_server_started_total{" + Labels("v3electionpb.Election", "Observe", "server_stream") + "}"));
        Assert.Equal(0, Value(metrics, "grpc_server_handling_seconds_count{" + Labels("v3lockpb.Lock", "Unlock", "unary") + "}"));
        Assert.Equal(0, Value(metrics, "grpc_server_handling_seconds_bucket{" + WatchLabels + ",le=\"+Inf\"}"));
        Assert.Equal(0, Value(metrics, "etcd_network_client_grpc_received_bytes_total"));
        Assert.Equal(0, Value(metrics, "etcd_network_client_grpc_sent_bytes_total"));
        Assert.DoesNotContain("etcd_server_client_requests_total", metrics, StringComparison.Ordinal); // a series per version once used

        var methods = Services.SelectMany(s => s.Methods.Select(x => (Service: s.FullName, x.Name, Type: (x.IsClientStreaming, x.IsServerStreaming) switch
        {
            (false, false) => "unary",
            (false, true) => "server_stream",
            (true, false) => "client_stream",
            (true, true) => "bidi_stream",
        }))).ToList();
        Assert.Equal(41 + 2 + 5 + 2, methods.Count);
        var lines = metrics.Split('\n');
        foreach (var (service, name, type) in methods)
        {
            var labels = Labels(service, name, type);
            foreach (var series in new[] { "grpc_server_started_total", "grpc_server_msg_received_total", "grpc_server_msg_sent_total", "grpc_server_handling_seconds_count" })
            {
                Assert.Equal(0, Value(metrics, series + "{" + labels + "}"));
            }
            Assert.Equal(17, lines.Count(l => l.StartsWith("grpc_server_handled_total{", StringComparison.Ordinal) && l.EndsWith("," + labels + "} 0", StringComparison.Ordinal)));
        }
        Assert.Equal(methods.Count * 17, lines.Count(l => l.StartsWith("grpc_server_handled_total{", StringComparison.Ordinal)));
        Assert.Equal(methods.Count, lines.Count(l => l.StartsWith("grpc_server_started_total{", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Unary_calls_count_their_messages_and_encoded_bytes_and_a_failed_call_sends_none()
    {
        await using var m = await TestMember.StartSingleAsync();
        using var http = new HttpClient();
        var before = await http.GetStringAsync(m.ClientUrl + "/metrics");

        // Put{key "a", value "b"} is 6 bytes encoded (etcd counts 6 for it too).
        var put = await m.Kv.PutAsync(new PutRequest { Key = B("a"), Value = B("b") });
        var after = await http.GetStringAsync(m.ClientUrl + "/metrics");
        double Delta(string series) => Value(after, series) - Value(before, series);
        Assert.Equal(6, Delta("etcd_network_client_grpc_received_bytes_total"));
        Assert.Equal(put.CalculateSize(), Delta("etcd_network_client_grpc_sent_bytes_total"));
        Assert.Equal(1, Delta("grpc_server_msg_received_total{" + PutLabels + "}"));
        Assert.Equal(1, Delta("grpc_server_msg_sent_total{" + PutLabels + "}"));
        Assert.Equal(1, Delta("grpc_server_started_total{" + PutLabels + "}"));
        Assert.Equal(1, Delta("grpc_server_handled_total{grpc_code=\"OK\"," + PutLabels + "}"));

        // A Range of a future revision fails: its request counts, no response is sent.
        before = after;
        var future = new RangeRequest { Key = B("a"), Revision = 1_000_000 };
        var e = await Assert.ThrowsAsync<RpcException>(() => m.Kv.RangeAsync(future).ResponseAsync);
        Assert.Equal(StatusCode.OutOfRange, e.StatusCode);
        after = await http.GetStringAsync(m.ClientUrl + "/metrics");
        Assert.Equal(7, future.CalculateSize());
        Assert.Equal(7, Delta("etcd_network_client_grpc_received_bytes_total"));
        Assert.Equal(0, Delta("etcd_network_client_grpc_sent_bytes_total"));
        Assert.Equal(1, Delta("grpc_server_msg_received_total{" + RangeLabels + "}"));
        Assert.Equal(0, Delta("grpc_server_msg_sent_total{" + RangeLabels + "}"));
        Assert.Equal(1, Delta("grpc_server_handled_total{grpc_code=\"OutOfRange\"," + RangeLabels + "}"));

        // An empty request is 0 bytes; its response counts its encoded size.
        before = after;
        var status = await m.Maintenance.StatusAsync(new StatusRequest());
        after = await http.GetStringAsync(m.ClientUrl + "/metrics");
        Assert.Equal(0, Delta("etcd_network_client_grpc_received_bytes_total"));
        Assert.Equal(status.CalculateSize(), Delta("etcd_network_client_grpc_sent_bytes_total"));
    }

    [Fact]
    public async Task A_watch_stream_counts_each_message_and_its_bytes_and_its_time_when_it_ends()
    {
        await using var m = await TestMember.StartSingleAsync(o => o with { ExtensiveMetrics = true });
        using var http = new HttpClient();
        var before = await http.GetStringAsync(m.ClientUrl + "/metrics");

        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var call = m.Watch.Watch(cancellationToken: cts.Token);
        var create = new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w") } };
        Assert.Equal(5, create.CalculateSize()); // etcd counts 5 received bytes for it too
        await call.RequestStream.WriteAsync(create);
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        var created = call.ResponseStream.Current;
        Assert.True(created.Created);
        var put = await m.Kv.PutAsync(new PutRequest { Key = B("w"), Value = B("x") });
        Assert.True(await call.ResponseStream.MoveNext(cts.Token));
        var evt = call.ResponseStream.Current;
        Assert.Single(evt.Events);

        // The server counts a message once its write completes, which may be after we read it.
        var after = "";
        await TestNet.WaitUntil(async () =>
        {
            after = await http.GetStringAsync(m.ClientUrl + "/metrics");
            return Value(after, "grpc_server_msg_sent_total{" + WatchLabels + "}") >= 2;
        }, TimeSpan.FromSeconds(10), "the watch's two responses counted");
        double Delta(string series) => Value(after, series) - Value(before, series);
        Assert.Equal(1, Delta("grpc_server_started_total{" + WatchLabels + "}"));
        Assert.Equal(1, Delta("grpc_server_msg_received_total{" + WatchLabels + "}"));
        Assert.Equal(2, Delta("grpc_server_msg_sent_total{" + WatchLabels + "}"));
        Assert.Equal(5 + 6, Delta("etcd_network_client_grpc_received_bytes_total")); // the create request and the Put
        Assert.Equal(created.CalculateSize() + evt.CalculateSize() + put.CalculateSize(), Delta("etcd_network_client_grpc_sent_bytes_total"));
        Assert.Equal(0, Value(after, "grpc_server_handling_seconds_count{" + WatchLabels + "}")); // still open

        // The client goes away: the stream ends Canceled and, as in etcd, is timed like any call.
        cts.Cancel();
        call.Dispose();
        await TestNet.WaitUntil(async () =>
        {
            after = await http.GetStringAsync(m.ClientUrl + "/metrics");
            return Value(after, "grpc_server_handling_seconds_count{" + WatchLabels + "}") == 1;
        }, TimeSpan.FromSeconds(10), "the canceled watch's end counted");
        Assert.Equal(1, Value(after, "grpc_server_handled_total{grpc_code=\"Canceled\"," + WatchLabels + "}"));
    }

    [Fact]
    public async Task Client_requests_are_counted_by_the_client_api_version_header_or_unknown()
    {
        await using var m = await TestMember.StartSingleAsync();
        using var http = new HttpClient();
        var v34 = new Metadata { { "client-api-version", "3.4" } };
        await m.Kv.RangeAsync(new RangeRequest { Key = B("a") }, v34);
        await m.Kv.RangeAsync(new RangeRequest { Key = B("a") }, v34);
        await m.Kv.RangeAsync(new RangeRequest { Key = B("a") });
        await m.Kv.RangeAsync(new RangeRequest { Key = B("a") }, new Metadata { { "client-api-version", "3.4\"\\" } });
        using (var watch = m.Watch.Watch(v34))
        {
            await watch.RequestStream.WriteAsync(new WatchRequest { CreateRequest = new WatchCreateRequest { Key = B("w") } });
            Assert.True(await watch.ResponseStream.MoveNext(CancellationToken.None));
        }

        var metrics = await http.GetStringAsync(m.ClientUrl + "/metrics");
        Assert.Equal(2, Value(metrics, "etcd_server_client_requests_total{client_api_version=\"3.4\",type=\"unary\"}"));
        Assert.Equal(1, Value(metrics, "etcd_server_client_requests_total{client_api_version=\"3.4\",type=\"stream\"}"));
        Assert.Equal(1, Value(metrics, "etcd_server_client_requests_total{client_api_version=\"unknown\",type=\"unary\"}"));
        // A value with a quote and a backslash is escaped, so /metrics stays parseable.
        Assert.Equal(1, Value(metrics, "etcd_server_client_requests_total{client_api_version=\"3.4\\\"\\\\\",type=\"unary\"}"));
        Assert.Equal(0, ValueOr0(metrics, "etcd_server_client_requests_total{client_api_version=\"unknown\",type=\"stream\"}"));
        Assert.Contains("# HELP etcd_server_client_requests_total The total number of client requests per client version.\n", metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_gateway_calls_count_as_calls_of_the_grpc_method_they_stand_for()
    {
        // etcd's gateway calls its own gRPC port: dashboards see those calls in the gRPC series.
        await using var m = await TestMember.StartSingleAsync();
        using var http = new HttpClient();
        const string put = "grpc_method=\"Put\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
        const string range = "grpc_method=\"Range\",grpc_service=\"etcdserverpb.KV\",grpc_type=\"unary\"";
        var before = await http.GetStringAsync(m.ClientUrl + "/metrics");

        // {"key":"a","value":"b"} is Put a=b, 6 bytes encoded.
        var ok = await http.PostAsync(m.ClientUrl + "/v3/kv/put", new StringContent("{\"key\":\"YQ==\",\"value\":\"Yg==\"}"));
        Assert.True(ok.IsSuccessStatusCode);
        // A range at a future revision fails as over gRPC; a body that does not parse never reaches gRPC.
        var future = await http.PostAsync(m.ClientUrl + "/v3/kv/range", new StringContent("{\"key\":\"YQ==\",\"revision\":\"1000000\"}"));
        Assert.False(future.IsSuccessStatusCode);
        var bad = await http.PostAsync(m.ClientUrl + "/v3/kv/range", new StringContent("{not json"));
        Assert.False(bad.IsSuccessStatusCode);

        var after = await http.GetStringAsync(m.ClientUrl + "/metrics");
        double Delta(string series) => ValueOr0(after, series) - ValueOr0(before, series);
        Assert.Equal(1, Delta("grpc_server_started_total{" + put + "}"));
        Assert.Equal(1, Delta("grpc_server_handled_total{grpc_code=\"OK\"," + put + "}"));
        Assert.Equal(1, Delta("grpc_server_msg_received_total{" + put + "}"));
        Assert.Equal(1, Delta("grpc_server_msg_sent_total{" + put + "}"));
        Assert.Equal(1, Delta("grpc_server_started_total{" + range + "}"));
        Assert.Equal(1, Delta("grpc_server_handled_total{grpc_code=\"OutOfRange\"," + range + "}"));
        Assert.Equal(0, Delta("grpc_server_msg_sent_total{" + range + "}"));
        Assert.Equal(2, Delta("etcd_server_client_requests_total{client_api_version=\"unknown\",type=\"unary\"}"));
        // Put a=b (6) and Range a at 1000000 (3 + 4).
        Assert.Equal(6 + 7, Delta("etcd_network_client_grpc_received_bytes_total"));
    }

    [Fact]
    public async Task A_linearizable_read_without_a_leader_counts_as_a_failed_read_index()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        var leader = await cluster.LeaderAsync();
        var survivor = cluster.Members.First(m => m != leader);
        foreach (var m in cluster.Members.Where(m => m != survivor))
        {
            await m.StopAsync();
        }
        using var http = new HttpClient();
        await TestNet.WaitUntil(async () => Value(await http.GetStringAsync(survivor.ClientUrl + "/metrics"), "etcd_server_has_leader") == 0,
            TimeSpan.FromSeconds(20), "the survivor to lose its leader");
        var before = Value(await http.GetStringAsync(survivor.ClientUrl + "/metrics"), "etcd_server_read_indexes_failed_total");

        await Assert.ThrowsAsync<RpcException>(() => survivor.Kv.RangeAsync(new RangeRequest { Key = B("met/none") }).ResponseAsync);

        var after = await http.GetStringAsync(survivor.ClientUrl + "/metrics");
        Assert.True(Value(after, "etcd_server_read_indexes_failed_total") > before);
    }
}
