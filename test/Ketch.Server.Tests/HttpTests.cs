using System.Net;
using System.Text;
using System.Text.Json;
using Google.Protobuf;
using Ketch.Api.Etcdserverpb;

namespace Ketch.Server.Tests;

/// <summary>HTTP/1 on the same port as gRPC: /health, /version, /metrics and the JSON gateway.</summary>
public sealed class HttpTests(SingleMemberFixture fixture) : IClassFixture<SingleMemberFixture>
{
    private TestMember M => fixture.Member;

    private static HttpClient Http1() => new() { DefaultRequestVersion = HttpVersion.Version11, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };

    [Fact]
    public async Task Health_version_metrics_on_the_grpc_port()
    {
        using var http = Http1();
        // gRPC on the same port first, then HTTP/1.
        await M.Kv.PutAsync(new PutRequest { Key = ByteString.CopyFromUtf8("h1/a"), Value = ByteString.CopyFromUtf8("x") });
        var health = await http.GetAsync(M.ClientUrl + "/health");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(new Version(1, 1), health.Version);
        Assert.Equal("{\"health\":\"true\",\"reason\":\"\"}", await health.Content.ReadAsStringAsync());
        Assert.Equal("{\"etcdserver\":\"3.5.13\",\"etcdcluster\":\"3.5.0\"}", await http.GetStringAsync(M.ClientUrl + "/version"));
        var metrics = await http.GetStringAsync(M.ClientUrl + "/metrics");
        foreach (var name in new[] { "process_resident_memory_bytes", "etcd_server_has_leader 1", "etcd_server_is_leader 1", "etcd_server_proposals_committed_total", "etcd_mvcc_db_total_size_in_bytes", "etcd_disk_wal_fsync_duration_seconds_bucket" })
        {
            Assert.Contains(name, metrics, StringComparison.Ordinal);
        }
        // The runtime's GC, as etcd exposes Go's: counters that a scrape can difference.
        double Value(string series) => PrometheusText.Value(metrics, series);
        Assert.True(Value("dotnet_gc_allocated_bytes_total") > 0);
        Assert.True(Value("dotnet_gc_heap_size_bytes") >= 0);
        Assert.True(Value("dotnet_gc_pause_seconds_total") >= 0);
        Assert.True(Value("dotnet_gc_collections_total{generation=\"0\"}") >= Value("dotnet_gc_collections_total{generation=\"2\"}"));
    }

    [Fact]
    public async Task Json_gateway_put_range_txn_delete_with_base64_and_string_int64()
    {
        using var http = Http1();
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes("h2/k"));
        var val = Convert.ToBase64String(Encoding.UTF8.GetBytes("v1"));
        var put = await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent($"{{\"key\":\"{key}\",\"value\":\"{val}\"}}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var putJson = JsonDocument.Parse(await put.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.String, putJson.RootElement.GetProperty("header").GetProperty("revision").ValueKind);

        var range = await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent($"{{\"key\":\"{key}\"}}"));
        using var rangeJson = JsonDocument.Parse(await range.Content.ReadAsStringAsync());
        var kv = rangeJson.RootElement.GetProperty("kvs")[0];
        Assert.Equal(val, kv.GetProperty("value").GetString());
        Assert.Equal("1", kv.GetProperty("version").GetString());
        Assert.Equal("1", rangeJson.RootElement.GetProperty("count").GetString());

        var txn = await http.PostAsync(M.ClientUrl + "/v3/kv/txn", new StringContent(
            $"{{\"compare\":[{{\"key\":\"{key}\",\"target\":\"VALUE\",\"result\":\"EQUAL\",\"value\":\"{val}\"}}],\"success\":[{{\"request_delete_range\":{{\"key\":\"{key}\"}}}}]}}"));
        using var txnJson = JsonDocument.Parse(await txn.Content.ReadAsStringAsync());
        Assert.True(txnJson.RootElement.GetProperty("succeeded").GetBoolean());

        var bad = await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent("{\"value\":\"eA==\"}"));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("etcdserver: key is not provided", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_gateway_refuses_unknown_enum_names_as_etcd()
    {
        using var http = Http1();
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes("h2e/k"));
        await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent($"{{\"key\":\"{key}\",\"value\":\"eA==\"}}"));

        // A misspelt compare target inside a txn's compare list: etcd answers 400 and runs nothing.
        var txn = await http.PostAsync(M.ClientUrl + "/v3/kv/txn", new StringContent(
            $"{{\"compare\":[{{\"key\":\"{key}\",\"target\":\"VALUES\",\"result\":\"EQUAL\",\"value\":\"eA==\"}}],\"success\":[{{\"request_delete_range\":{{\"key\":\"{key}\"}}}}]}}"));
        Assert.Equal(HttpStatusCode.BadRequest, txn.StatusCode);
        Assert.Equal("{\"error\":\"unknown value \\\"VALUES\\\" for enum etcdserverpb.Compare_CompareTarget\",\"message\":\"unknown value \\\"VALUES\\\" for enum etcdserverpb.Compare_CompareTarget\",\"code\":3}",
            await txn.Content.ReadAsStringAsync());
        var still = await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent($"{{\"key\":\"{key}\"}}"));
        using (var stillJson = JsonDocument.Parse(await still.Content.ReadAsStringAsync()))
        {
            Assert.Equal("1", stillJson.RootElement.GetProperty("count").GetString());
        }

        var sort = await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent($"{{\"key\":\"{key}\",\"sortOrder\":\"BOGUS\"}}"));
        Assert.Equal(HttpStatusCode.BadRequest, sort.StatusCode);
        Assert.Contains("unknown value \\\"BOGUS\\\" for enum etcdserverpb.RangeRequest_SortOrder", await sort.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Known names, enum numbers and unknown fields stay accepted.
        var fine = await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent($"{{\"key\":\"{key}\",\"sort_order\":\"DESCEND\",\"sort_target\":1,\"no_such_field\":\"x\"}}"));
        Assert.Equal(HttpStatusCode.OK, fine.StatusCode);

        // The same check on a stream's messages (the watch's filters are a repeated enum); etcd's
        // gateway reports a bad message on a bidirectional stream as Unknown, HTTP 500.
        var watch = await http.PostAsync(M.ClientUrl + "/v3/watch", new StringContent($"{{\"create_request\":{{\"key\":\"{key}\",\"filters\":[\"NOPUT\",\"NOCHANGE\"]}}}}"));
        Assert.Equal(HttpStatusCode.InternalServerError, watch.StatusCode);
        Assert.Equal("{\"error\":\"unknown value \\\"NOCHANGE\\\" for enum etcdserverpb.WatchCreateRequest_FilterType\",\"message\":\"unknown value \\\"NOCHANGE\\\" for enum etcdserverpb.WatchCreateRequest_FilterType\",\"code\":2}",
            await watch.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Json_gateway_lease_and_member_list()
    {
        using var http = Http1();
        var grant = await http.PostAsync(M.ClientUrl + "/v3/lease/grant", new StringContent("{\"TTL\":\"60\"}"));
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        using var grantJson = JsonDocument.Parse(await grant.Content.ReadAsStringAsync());
        var id = grantJson.RootElement.GetProperty("ID").GetString();
        Assert.Equal("60", grantJson.RootElement.GetProperty("TTL").GetString());
        var ttl = await http.PostAsync(M.ClientUrl + "/v3/lease/timetolive", new StringContent($"{{\"ID\":\"{id}\"}}"));
        using var ttlJson = JsonDocument.Parse(await ttl.Content.ReadAsStringAsync());
        Assert.Equal("60", ttlJson.RootElement.GetProperty("grantedTTL").GetString());
        var revoke = await http.PostAsync(M.ClientUrl + "/v3/lease/revoke", new StringContent($"{{\"ID\":\"{id}\"}}"));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        var again = await http.PostAsync(M.ClientUrl + "/v3/lease/revoke", new StringContent($"{{\"ID\":\"{id}\"}}"));
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        var members = await http.PostAsync(M.ClientUrl + "/v3/cluster/member/list", new StringContent("{}"));
        using var membersJson = JsonDocument.Parse(await members.Content.ReadAsStringAsync());
        Assert.Equal("m1", membersJson.RootElement.GetProperty("members")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Json_gateway_reads_64_bit_ids_given_as_json_numbers_exactly()
    {
        // 2^60 + 1 is not a double: read as one, it would be 2^60 (python3-etcd3gw sends ids as numbers).
        const long id = (1L << 60) + 1;
        using var http = Http1();
        var grant = await http.PostAsync(M.ClientUrl + "/v3/lease/grant", new StringContent($"{{\"TTL\": 60, \"ID\": {id}}}"));
        Assert.Equal(HttpStatusCode.OK, grant.StatusCode);
        using var grantJson = JsonDocument.Parse(await grant.Content.ReadAsStringAsync());
        Assert.Equal(id.ToString(System.Globalization.CultureInfo.InvariantCulture), grantJson.RootElement.GetProperty("ID").GetString());
        var put = await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent($"{{\"key\": \"bGVhc2VkLWJ5LW51bWJlcg==\", \"value\": \"eA==\", \"lease\": {id}}}"));
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var ttl = await http.PostAsync(M.ClientUrl + "/v3/lease/timetolive", new StringContent($"{{\"ID\": {id}, \"keys\": true}}"));
        using var ttlJson = JsonDocument.Parse(await ttl.Content.ReadAsStringAsync());
        Assert.Equal("bGVhc2VkLWJ5LW51bWJlcg==", ttlJson.RootElement.GetProperty("keys")[0].GetString());
        var revoke = await http.PostAsync(M.ClientUrl + "/v3/lease/revoke", new StringContent($"{{\"ID\": {id}}}"));
        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        // Small numbers and enums by number still parse as before.
        var range = await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent("{\"key\": \"AA==\", \"range_end\": \"AA==\", \"limit\": 1, \"sort_order\": 1}"));
        Assert.Equal(HttpStatusCode.OK, range.StatusCode);
    }

    /// <summary>etcd's gateway writes Go's compact JSON; Google.Protobuf's formatter puts spaces
    /// between tokens, which a script grepping a curl answer for <c>"count":"1"</c> would miss
    /// (etcd 3.4.23 by hand: <c>{"header":{"cluster_id":"...",...},"kvs":[{"key":"Zm9v",...}],"count":"1"}</c>).</summary>
    [Fact]
    public async Task Json_gateway_answers_in_compact_json_as_etcds_does()
    {
        using var http = Http1();
        var key = Convert.ToBase64String("gw/compact"u8);
        var put = await (await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent($"{{\"key\":\"{key}\",\"value\":\"YiBj\"}}"))).Content.ReadAsStringAsync();
        var range = await (await http.PostAsync(M.ClientUrl + "/v3/kv/range", new StringContent($"{{\"key\":\"{key}\"}}"))).Content.ReadAsStringAsync();

        using var doc = JsonDocument.Parse(range);
        var h = doc.RootElement.GetProperty("header");
        string S(JsonElement e, string name) => e.GetProperty(name).GetString()!;
        var header = $"{{\"cluster_id\":\"{S(h, "cluster_id")}\",\"member_id\":\"{S(h, "member_id")}\",\"revision\":\"{S(h, "revision")}\",\"raft_term\":\"{S(h, "raft_term")}\"}}";
        var kv = doc.RootElement.GetProperty("kvs")[0];
        Assert.Equal($"{{\"header\":{header},\"kvs\":[{{\"key\":\"{key}\",\"create_revision\":\"{S(kv, "create_revision")}\",\"mod_revision\":\"{S(kv, "mod_revision")}\",\"version\":\"1\",\"value\":\"YiBj\"}}],\"count\":\"1\"}}", range);
        Assert.StartsWith("{\"header\":{\"cluster_id\":\"", put, StringComparison.Ordinal);
        Assert.DoesNotContain(' ', put);
    }

    [Fact]
    public async Task Json_gateway_watch_streams_result_lines_until_the_client_leaves()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var http = Http1();
        var key = Convert.ToBase64String(Encoding.UTF8.GetBytes("gw/watched"));
        using var request = new HttpRequestMessage(HttpMethod.Post, M.ClientUrl + "/v3/watch") { Content = new StringContent($"{{\"create_request\": {{\"key\": \"{key}\"}}}}") };
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var lines = new StreamReader(await response.Content.ReadAsStreamAsync(deadline.Token));
        using (var created = JsonDocument.Parse(await lines.ReadLineAsync(deadline.Token) ?? "null"))
        {
            Assert.True(created.RootElement.GetProperty("result").GetProperty("created").GetBoolean());
        }
        await http.PostAsync(M.ClientUrl + "/v3/kv/put", new StringContent($"{{\"key\": \"{key}\", \"value\": \"dg==\"}}"), deadline.Token);
        using var events = JsonDocument.Parse(await lines.ReadLineAsync(deadline.Token) ?? "null");
        var kv = events.RootElement.GetProperty("result").GetProperty("events")[0].GetProperty("kv");
        Assert.Equal(key, kv.GetProperty("key").GetString());
        Assert.Equal("dg==", kv.GetProperty("value").GetString());
    }

    [Fact]
    public async Task Json_gateway_serves_keepalive_maintenance_cluster_lock_and_election_paths()
    {
        using var http = Http1();
        async Task<(HttpStatusCode Status, JsonElement Body)> Post(string path, string body)
        {
            var r = await http.PostAsync(M.ClientUrl + path, new StringContent(body));
            var text = await r.Content.ReadAsStringAsync();
            using var doc = JsonDocument.Parse(text.Split('\n')[0]);
            return (r.StatusCode, doc.RootElement.Clone());
        }

        var (_, grant) = await Post("/v3/lease/grant", "{\"TTL\": 60}");
        var id = grant.GetProperty("ID").GetString();
        var (status, keepAlive) = await Post("/v3/lease/keepalive", $"{{\"ID\": {id}}}");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("60", keepAlive.GetProperty("result").GetProperty("TTL").GetString());

        var (_, memberStatus) = await Post("/v3/maintenance/status", "{}");
        Assert.Equal(M.Server.MemberId.ToString(System.Globalization.CultureInfo.InvariantCulture), memberStatus.GetProperty("leader").GetString());
        var (_, hash) = await Post("/v3/maintenance/hashkv", "{}");
        Assert.True(hash.GetProperty("hash").GetUInt32() != 0);
        var (_, snapshot) = await Post("/v3/maintenance/snapshot", "{}");
        Assert.NotEmpty(snapshot.GetProperty("result").GetProperty("blob").GetBytesFromBase64());
        var (_, alarms) = await Post("/v3/maintenance/alarm", "{\"action\": \"GET\"}");
        Assert.False(alarms.TryGetProperty("alarms", out _));

        var (badStatus, bad) = await Post("/v3/cluster/member/add", "{}");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Assert.Equal("etcdserver: given member URLs are invalid", bad.GetProperty("error").GetString());

        var name = Convert.ToBase64String(Encoding.UTF8.GetBytes("gw-lock"));
        var (_, locked) = await Post("/v3/lock/lock", $"{{\"name\": \"{name}\", \"lease\": {id}}}");
        var lockKey = Encoding.UTF8.GetString(locked.GetProperty("key").GetBytesFromBase64());
        Assert.StartsWith("gw-lock/", lockKey, StringComparison.Ordinal);
        var (unlockStatus, _) = await Post("/v3/lock/unlock", $"{{\"key\": \"{locked.GetProperty("key").GetString()}\"}}");
        Assert.Equal(HttpStatusCode.OK, unlockStatus);

        var election = Convert.ToBase64String(Encoding.UTF8.GetBytes("gw-election"));
        await Post("/v3/election/campaign", $"{{\"name\": \"{election}\", \"lease\": {id}, \"value\": \"bWU=\"}}");
        var (_, leader) = await Post("/v3/election/leader", $"{{\"name\": \"{election}\"}}");
        Assert.Equal("bWU=", leader.GetProperty("kv").GetProperty("value").GetString());
        await Post("/v3/lease/revoke", $"{{\"ID\": {id}}}");
    }
}
