using System.Diagnostics;
using System.Globalization;
using System.Text;
using Ketch.Server.Member;

namespace Ketch.Server.Http;

/// <summary>
/// The member's metrics, rendered as Prometheus text on <c>/metrics</c> under etcd's names (the
/// ones dashboards, clients and the usual etcd alerts read). Counters are lock-free; the WAL fsync
/// and backend commit histograms use etcd's buckets (1 ms doubling, 14 buckets).
/// </summary>
internal sealed class ServerMetrics(bool extensive = false)
{
    private readonly Histogram _fsync = new(Histogram.DiskBuckets);
    private readonly Histogram _backendCommit = new(Histogram.DiskBuckets);
    private long _proposalsFailed;
    private long _proposalsCommitted;
    private long _leaderChanges;
    private long _healthSuccess;
    private long _healthFailures;

    /// <summary>The gRPC server series (<see cref="GrpcMetrics"/>).</summary>
    public GrpcMetrics Grpc { get; } = new(extensive);

    /// <summary>The peer network series (<see cref="PeerMetrics"/>).</summary>
    public PeerMetrics Peers { get; } = new();

    public void ProposalsCommitted() => Interlocked.Increment(ref _proposalsCommitted);

    public void ProposalFailed() => Interlocked.Increment(ref _proposalsFailed);

    public void LeaderChanged() => Interlocked.Increment(ref _leaderChanges);

    public void ObserveFsync(TimeSpan duration) => _fsync.Observe(duration);

    /// <summary>A commit of the MVCC backend's write batch (etcd's bbolt commit).</summary>
    public void ObserveBackendCommit(TimeSpan duration) => _backendCommit.Observe(duration);

    /// <summary>The outcome of a <c>/health</c> check.</summary>
    public void HealthChecked(bool healthy) => Interlocked.Increment(ref healthy ? ref _healthSuccess : ref _healthFailures);

    public string Render(RaftLoop loop, long quotaBytes)
    {
        var sb = new StringBuilder();
        Gauge(sb, "etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not.", loop.Leader != 0 ? 1 : 0);
        Gauge(sb, "etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise.", loop.IsLeader ? 1 : 0);
        Counter(sb, "etcd_server_leader_changes_seen_total", "The number of leader changes seen.", Interlocked.Read(ref _leaderChanges));
        Gauge(sb, "etcd_server_proposals_committed_total", "The total number of consensus proposals committed.", loop.CommitIndex);
        Gauge(sb, "etcd_server_proposals_applied_total", "The total number of consensus proposals applied.", loop.AppliedIndex);
        Gauge(sb, "etcd_server_proposals_pending", "The current number of pending proposals to commit.", loop.PendingProposals);
        Counter(sb, "etcd_server_proposals_failed_total", "The total number of failed proposals seen.", Interlocked.Read(ref _proposalsFailed));
        Gauge(sb, "etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", loop.Kv.DbSizeBytes);
        Gauge(sb, "etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes.", loop.Kv.DbSizeInUseBytes);
        Gauge(sb, "etcd_debugging_mvcc_current_revision", "The current revision of store.", loop.Kv.CurrentRevision);
        Gauge(sb, "etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes.", quotaBytes);
        Counter(sb, "etcd_server_health_success", "The total number of successful health checks", Interlocked.Read(ref _healthSuccess));
        Counter(sb, "etcd_server_health_failures", "The total number of failed health checks", Interlocked.Read(ref _healthFailures));
        _fsync.Render(sb, "etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL.");
        _backendCommit.Render(sb, "etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend.");
        Grpc.Render(sb);
        Peers.Render(sb, loop.MemberId);
        sb.Append("# HELP etcd_server_version Which version is running. 1 for 'server_version' label with current version.\n");
        sb.Append("# TYPE etcd_server_version gauge\n");
        sb.Append("etcd_server_version{server_version=\"").Append(EtcdVersion.Server).Append("\"} 1\n");
        sb.Append("# HELP etcd_server_id Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.\n");
        sb.Append("# TYPE etcd_server_id gauge\n");
        sb.Append("etcd_server_id{server_id=\"").Append(loop.MemberId.ToString("x", CultureInfo.InvariantCulture)).Append("\"} 1\n");
        using var process = Process.GetCurrentProcess();
        Gauge(sb, "process_resident_memory_bytes", "Resident memory size in bytes.", process.WorkingSet64);
        Gauge(sb, "process_virtual_memory_bytes", "Virtual memory size in bytes.", process.VirtualMemorySize64);
        Counter(sb, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", process.TotalProcessorTime.TotalSeconds);
        Gauge(sb, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", new DateTimeOffset(process.StartTime).ToUnixTimeSeconds());
        // The runtime's garbage collector, as etcd exposes Go's (go_gc_duration_seconds, go_memstats_*):
        // GC pauses are what a tail latency is made of in a managed server.
        sb.Append("# HELP dotnet_gc_collections_total Garbage collections since the process started, by generation.\n");
        sb.Append("# TYPE dotnet_gc_collections_total counter\n");
        for (var gen = 0; gen <= GC.MaxGeneration; gen++)
        {
            sb.Append("dotnet_gc_collections_total{generation=\"").Append(gen).Append("\"} ").Append(GC.CollectionCount(gen)).Append('\n');
        }
        Counter(sb, "dotnet_gc_pause_seconds_total", "Time the runtime was paused for garbage collection since the process started.", GC.GetTotalPauseDuration().TotalSeconds);
        Counter(sb, "dotnet_gc_allocated_bytes_total", "Bytes allocated on the managed heap since the process started.", GC.GetTotalAllocatedBytes());
        Gauge(sb, "dotnet_gc_heap_size_bytes", "Bytes in use on the managed heap after the last garbage collection.", GC.GetGCMemoryInfo().HeapSizeBytes);
        return sb.ToString();
    }

    private static void Gauge(StringBuilder sb, string name, string help, double value) => Metric(sb, name, help, "gauge", value);

    private static void Counter(StringBuilder sb, string name, string help, double value) => Metric(sb, name, help, "counter", value);

    private static void Metric(StringBuilder sb, string name, string help, string type, double value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
          .Append(name).Append(' ').Append(Num(value)).Append('\n');

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
