using static Ketch.Server.Tests.PrometheusText;

namespace Ketch.Server.Tests;

/// <summary>
/// /metrics next to a real etcd 3.4.23: the same etcdctl commands against a single member of each,
/// then every series family etcd exports must be in ketch's output with the same type, and the
/// series that count those commands must agree. Dashboards and alerts written for etcd read these.
/// </summary>
public sealed class MetricsCompatTests
{
    /// <summary>Families etcd exports that ketch does not, by prefix, and why: Go's runtime (ketch
    /// exports .NET's GC as <c>dotnet_gc_*</c>), the Go version, the gRPC proxy's globals (no proxy
    /// runs in a member), the v2 store (ketch never had one) and bbolt's commit phases (ketch's
    /// backend is RocksDB; its commits are in <c>etcd_disk_backend_commit_duration_seconds</c>).</summary>
    private static readonly string[] s_notExported =
        ["go_", "etcd_server_go_version", "etcd_grpc_proxy_", "etcd_debugging_store_", "etcd_debugging_disk_backend_commit_"];

    private static Dictionary<string, string> Families(string metrics) =>
        metrics.Split('\n').Where(l => l.StartsWith("# TYPE ", StringComparison.Ordinal))
            .Select(l => l.Split(' ')).ToDictionary(p => p[2], p => p[3]);

    private static async Task<string> ScrapeAsync(string endpoint)
    {
        using var http = new HttpClient();
        return await http.GetStringAsync((endpoint.StartsWith("http", StringComparison.Ordinal) ? endpoint : "http://" + endpoint) + "/metrics");
    }

    [Fact]
    public async Task Every_family_of_a_single_etcd_member_is_exported_and_the_same_commands_count_the_same()
    {
        Etcdctl.Require();
        await using var etcd = await EtcdProcess.StartAsync();
        await using var ketch = await TestMember.StartSingleAsync();
        var ketchEndpoint = ketch.ClientUrl.Replace("http://", "", StringComparison.Ordinal);
        using var dir = new TempDir();
        var endpoints = new[] { etcd.Endpoint, ketchEndpoint };

        // Key-value commands; the txns are the cases of KvStoreStatsTests (a compare reads as a range,
        // a read-only txn is a read).
        foreach (var e in endpoints)
        {
            await Etcdctl.OkAsync(e, "put a b");
            await Etcdctl.OkAsync(e, "put w 1234567890");
            await Etcdctl.OkAsync(e, "get a");
            await Etcdctl.OkAsync(e, "del a");
            await Etcdctl.OkAsync(e, "txn", "value(\"w\") = \"1234567890\"\n\nput x y\nget w\n\n\n");
            await Etcdctl.OkAsync(e, "txn", "\nget x\nget w\n\n\n");
        }
        var (etcdKv, ketchKv) = (await ScrapeAsync(etcd.Endpoint), await ScrapeAsync(ketchEndpoint));
        foreach (var series in new[]
        {
            "etcd_mvcc_range_total", "etcd_mvcc_put_total", "etcd_mvcc_delete_total", "etcd_mvcc_txn_total",
            "etcd_debugging_mvcc_range_total", "etcd_debugging_mvcc_put_total", "etcd_debugging_mvcc_total_put_size_in_bytes",
            "etcd_debugging_mvcc_keys_total", "etcd_debugging_mvcc_compact_revision",
        })
        {
            Assert.True(Value(etcdKv, series) == Value(ketchKv, series), $"{series}: etcd {Value(etcdKv, series)}, ketch {Value(ketchKv, series)}");
        }

        // Leases and maintenance.
        foreach (var e in endpoints)
        {
            var lease = (await Etcdctl.OkAsync(e, "lease grant 100")).Split(' ')[1];
            await Etcdctl.OkAsync(e, $"lease keep-alive --once {lease}");
            await Etcdctl.OkAsync(e, $"lease revoke {lease}");
            await Etcdctl.OkAsync(e, "compact 3");
            await Etcdctl.OkAsync(e, "defrag");
            await Etcdctl.OkAsync(e, "endpoint hashkv");
            await Etcdctl.OkAsync(e, $"snapshot save {Path.Combine(dir.Path, Guid.NewGuid().ToString("N"))}");
        }
        var (etcdAll, ketchAll) = (await ScrapeAsync(etcd.Endpoint), await ScrapeAsync(ketchEndpoint));
        foreach (var series in new[]
        {
            "etcd_debugging_lease_granted_total", "etcd_debugging_lease_revoked_total", "etcd_debugging_lease_renewed_total",
            "etcd_debugging_lease_ttl_total_count", "etcd_debugging_lease_ttl_total_sum",
            "etcd_debugging_mvcc_compact_revision", "etcd_debugging_mvcc_keys_total",
            "etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds_count",
            "etcd_debugging_mvcc_db_compaction_total_duration_milliseconds_count",
            "etcd_disk_backend_defrag_duration_seconds_count", "etcd_disk_defrag_inflight",
            "etcd_disk_backend_snapshot_duration_seconds_count", "etcd_mvcc_hash_rev_duration_seconds_count",
            "etcd_debugging_auth_revision", "etcd_server_is_learner", "etcd_server_has_leader", "etcd_server_is_leader",
        })
        {
            Assert.True(Value(etcdAll, series) == Value(ketchAll, series), $"{series}: etcd {Value(etcdAll, series)}, ketch {Value(ketchAll, series)}");
        }

        var ours = Families(ketchAll);
        var missing = Families(etcdAll)
            .Where(f => !s_notExported.Any(p => f.Key.StartsWith(p, StringComparison.Ordinal)))
            .Where(f => !ours.TryGetValue(f.Key, out var type) || type != f.Value)
            .Select(f => $"{f.Key} ({f.Value}, ketch: {(ours.TryGetValue(f.Key, out var t) ? t : "none")})")
            .ToList();
        Assert.True(missing.Count == 0, "etcd families ketch lacks or types differently: " + string.Join(", ", missing));
    }
}
