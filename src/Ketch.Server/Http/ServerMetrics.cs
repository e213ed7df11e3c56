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
    /// <summary>etcd's warnApplyDuration: an apply slower than this counts as slow.</summary>
    public static readonly TimeSpan SlowApply = TimeSpan.FromMilliseconds(100);

    private readonly Histogram _fsync = new(Histogram.DiskBuckets);
    private readonly Histogram _backendCommit = new(Histogram.DiskBuckets);
    private readonly Histogram _backendSnapshot = new(Histogram.Exponential(0.01, 2, 17));
    private readonly Histogram _defrag = new(Histogram.Exponential(0.1, 2, 13));
    private readonly Histogram _hash = new(Histogram.Exponential(0.01, 2, 15));
    private readonly Histogram _hashRev = new(Histogram.Exponential(0.01, 2, 15));
    private readonly Histogram _snapSave = new(Histogram.DiskBuckets);
    private readonly Histogram _snapSaveMarshalling = new(Histogram.DiskBuckets);
    private readonly Histogram _snapFsync = new(Histogram.DiskBuckets);
    private readonly Histogram _snapDbFsync = new(Histogram.DiskBuckets);
    private readonly Histogram _snapDbSave = new(Histogram.Exponential(0.1, 2, 10));
    private readonly Histogram _indexCompaction = new(Histogram.Exponential(0.5, 2, 14), unitsPerSecond: 1000);
    private readonly Histogram _dbCompactionPause = new(Histogram.Exponential(1, 2, 13), unitsPerSecond: 1000);
    private readonly Histogram _dbCompactionTotal = new(Histogram.Exponential(100, 2, 14), unitsPerSecond: 1000);
    private long _proposalsFailed;
    private long _proposalsCommitted;
    private long _leaderChanges;
    private long _healthSuccess;
    private long _healthFailures;
    private long _slowApplies;
    private long _slowReadIndexes;
    private long _readIndexesFailed;
    private long _heartbeatSendFailures;
    private long _learnerPromotes;
    private long _watchStreams;
    private int _snapshotApplying;
    private int _defragInflight;
    private long _scrapesInFlight;
    private long _scrapes;
    private long _scrapesFailed;

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

    /// <summary>One Raft entry's apply took <paramref name="duration"/> (slow past <see cref="SlowApply"/>).</summary>
    public void Applied(TimeSpan duration)
    {
        if (duration > SlowApply)
        {
            Interlocked.Increment(ref _slowApplies);
        }
    }

    /// <summary>Read-index requests never answered before the request timeout (etcd 3.5's slow read indexes).</summary>
    public void ReadIndexesTimedOut(int count) => Interlocked.Add(ref _slowReadIndexes, count);

    /// <summary>Read-index requests Raft would not take (no leader known, or the request dropped):
    /// etcd's failed read indexes.</summary>
    public void ReadIndexesFailed(int count) => Interlocked.Add(ref _readIndexesFailed, count);

    /// <summary>A heartbeat to a follower left more than two heartbeat intervals after the one before
    /// (etcd counts these as heartbeat send failures: the leader is likely overloaded or its disk slow).</summary>
    public void HeartbeatLate() => Interlocked.Increment(ref _heartbeatSendFailures);

    /// <summary>This member, as leader, promoted a learner.</summary>
    public void LearnerPromoted() => Interlocked.Increment(ref _learnerPromotes);

    /// <summary>A gRPC watch stream opened (+1) or closed (-1).</summary>
    public void WatchStream(int delta) => Interlocked.Add(ref _watchStreams, delta);

    /// <summary>A snapshot from the leader is being installed in the store (true) or is done (false).</summary>
    public void SnapshotApplying(bool applying) => Volatile.Write(ref _snapshotApplying, applying ? 1 : 0);

    /// <summary>A defragmentation started (true) or ended (false).</summary>
    public void Defragmenting(bool active) => Interlocked.Add(ref _defragInflight, active ? 1 : -1);

    public void ObserveDefrag(TimeSpan duration) => _defrag.Observe(duration);

    /// <summary>A backend snapshot streamed to a client (Maintenance.Snapshot), start to end.</summary>
    public void ObserveBackendSnapshot(TimeSpan duration) => _backendSnapshot.Observe(duration);

    /// <summary>Maintenance.Hash (whole backend) or HashKV (keys at a revision).</summary>
    public void ObserveHash(TimeSpan duration, bool byRevision) => (byRevision ? _hashRev : _hash).Observe(duration);

    /// <summary>A Raft snapshot file saved: the whole save, the part spent encoding, and its fsync.</summary>
    public void ObserveSnapshotSave(TimeSpan total, TimeSpan marshalling, TimeSpan fsync)
    {
        _snapSave.Observe(total);
        _snapSaveMarshalling.Observe(marshalling);
        _snapFsync.Observe(fsync);
    }

    /// <summary>A store snapshot received from the leader saved to disk: its fsync and the whole save.</summary>
    public void ObserveSnapshotDbSave(TimeSpan fsync, TimeSpan total)
    {
        _snapDbFsync.Observe(fsync);
        _snapDbSave.Observe(total);
    }

    /// <summary>The store's compaction timings (<see cref="Ketch.Mvcc.KvStore.CompactionObserver"/>).</summary>
    public void ObserveCompaction(Ketch.Mvcc.CompactionPhase phase, TimeSpan duration) => (phase switch
    {
        Ketch.Mvcc.CompactionPhase.IndexPause => _indexCompaction,
        Ketch.Mvcc.CompactionPhase.BackendPause => _dbCompactionPause,
        _ => _dbCompactionTotal,
    }).Observe(duration);

    /// <summary>A scrape of /metrics begins; <see cref="ScrapeDone"/> ends it (promhttp's series).</summary>
    public void ScrapeStarted() => Interlocked.Increment(ref _scrapesInFlight);

    /// <summary>A scrape ends: served (200), or failed while rendering (500).</summary>
    public void ScrapeDone(bool served)
    {
        Interlocked.Decrement(ref _scrapesInFlight);
        Interlocked.Increment(ref served ? ref _scrapes : ref _scrapesFailed);
    }

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
        RenderStore(sb, loop);
        RenderLeases(sb, loop.Lessor.Stats);
        var self = loop.Membership.Get(loop.MemberId);
        Gauge(sb, "etcd_server_is_learner", "Whether or not this member is a learner. 1 if is, 0 otherwise.", self?.IsLearner == true ? 1 : 0);
        Counter(sb, "etcd_server_learner_promote_successes", "The total number of successful learner promotions while this member is leader.", Interlocked.Read(ref _learnerPromotes));
        Counter(sb, "etcd_server_heartbeat_send_failures_total", "The total number of leader heartbeat send failures (likely overloaded from slow disk).", Interlocked.Read(ref _heartbeatSendFailures));
        Counter(sb, "etcd_server_slow_apply_total", "The total number of slow apply requests (likely overloaded from slow disk).", Interlocked.Read(ref _slowApplies));
        Counter(sb, "etcd_server_slow_read_indexes_total", "The total number of pending read indexes not in sync with leader's or timed out read index requests.", Interlocked.Read(ref _slowReadIndexes));
        Counter(sb, "etcd_server_read_indexes_failed_total", "The total number of failed read indexes seen.", Interlocked.Read(ref _readIndexesFailed));
        Gauge(sb, "etcd_server_snapshot_apply_in_progress_total", "1 if the server is applying the incoming snapshot. 0 if none.", Volatile.Read(ref _snapshotApplying));
        Gauge(sb, "etcd_debugging_auth_revision", "The current revision of auth store.", loop.Auth.Revision);
        Gauge(sb, "etcd_disk_wal_write_bytes_total", "Total number of bytes written in WAL.", loop.WalBytesAppended);
        Gauge(sb, "etcd_disk_defrag_inflight", "Whether or not defrag is active on the member. 1 means active, 0 means not.", Volatile.Read(ref _defragInflight) > 0 ? 1 : 0);
        _defrag.Render(sb, "etcd_disk_backend_defrag_duration_seconds", "The latency distribution of backend defragmentation.");
        _backendSnapshot.Render(sb, "etcd_disk_backend_snapshot_duration_seconds", "The latency distribution of backend snapshots.");
        _hash.Render(sb, "etcd_mvcc_hash_duration_seconds", "The latency distribution of storage hash operation.");
        _hashRev.Render(sb, "etcd_mvcc_hash_rev_duration_seconds", "The latency distribution of storage hash by revision operation.");
        _snapSave.Render(sb, "etcd_debugging_snap_save_total_duration_seconds", "The total latency distributions of save called by snapshot.");
        _snapSaveMarshalling.Render(sb, "etcd_debugging_snap_save_marshalling_duration_seconds", "The marshalling cost distributions of save called by snapshot.");
        _snapFsync.Render(sb, "etcd_snap_fsync_duration_seconds", "The latency distributions of fsync called by snap.");
        _snapDbFsync.Render(sb, "etcd_snap_db_fsync_duration_seconds", "The latency distributions of fsyncing .snap.db file");
        _snapDbSave.Render(sb, "etcd_snap_db_save_total_duration_seconds", "The total latency distributions of v3 snapshot save");
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
        sb.Append("# HELP etcd_cluster_version Which version is running. 1 for 'cluster_version' label with current cluster version\n");
        sb.Append("# TYPE etcd_cluster_version gauge\n");
        sb.Append("etcd_cluster_version{cluster_version=\"").Append(EtcdVersion.Cluster[..EtcdVersion.Cluster.LastIndexOf('.')]).Append("\"} 1\n");
        sb.Append("# HELP etcd_server_id Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.\n");
        sb.Append("# TYPE etcd_server_id gauge\n");
        sb.Append("etcd_server_id{server_id=\"").Append(loop.MemberId.ToString("x", CultureInfo.InvariantCulture)).Append("\"} 1\n");
        using var process = Process.GetCurrentProcess();
        Gauge(sb, "process_resident_memory_bytes", "Resident memory size in bytes.", process.WorkingSet64);
        Gauge(sb, "process_virtual_memory_bytes", "Virtual memory size in bytes.", process.VirtualMemorySize64);
        Counter(sb, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", process.TotalProcessorTime.TotalSeconds);
        Gauge(sb, "process_start_time_seconds", "Start time of the process since unix epoch in seconds.", new DateTimeOffset(process.StartTime).ToUnixTimeSeconds());
        if (ProcessLimits.Read() is { } limits)
        {
            Gauge(sb, "process_open_fds", "Number of open file descriptors.", limits.OpenFds);
            Gauge(sb, "process_max_fds", "Maximum number of open file descriptors.", limits.MaxFds);
            Gauge(sb, "process_virtual_memory_max_bytes", "Maximum amount of virtual memory available in bytes.", limits.MaxAddressSpace);
            // etcd's own pair (its fd monitor); the same readings.
            Gauge(sb, "os_fd_used", "The number of used file descriptors.", limits.OpenFds);
            Gauge(sb, "os_fd_limit", "The file descriptor limit.", limits.MaxFds);
        }
        // promhttp's own series: this scrape is in flight, and counted once it is served.
        Gauge(sb, "promhttp_metric_handler_requests_in_flight", "Current number of scrapes being served.", Interlocked.Read(ref _scrapesInFlight));
        sb.Append("# HELP promhttp_metric_handler_requests_total Total number of scrapes by HTTP status code.\n");
        sb.Append("# TYPE promhttp_metric_handler_requests_total counter\n");
        sb.Append("promhttp_metric_handler_requests_total{code=\"200\"} ").Append(Interlocked.Read(ref _scrapes)).Append('\n');
        sb.Append("promhttp_metric_handler_requests_total{code=\"500\"} ").Append(Interlocked.Read(ref _scrapesFailed)).Append('\n');
        sb.Append("promhttp_metric_handler_requests_total{code=\"503\"} 0\n");
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

    /// <summary>etcd's mvcc series: operations seen, keys, watchers, compactions. etcd exports most
    /// of them twice, under <c>etcd_mvcc_</c> and the older <c>etcd_debugging_mvcc_</c>.</summary>
    private void RenderStore(StringBuilder sb, RaftLoop loop)
    {
        var kv = loop.Kv;
        var stats = kv.Stats;
        foreach (var prefix in new[] { "etcd_mvcc_", "etcd_debugging_mvcc_" })
        {
            Counter(sb, prefix + "range_total", "Total number of ranges seen by this member.", stats.Ranges);
            Counter(sb, prefix + "put_total", "Total number of puts seen by this member.", stats.Puts);
            Counter(sb, prefix + "delete_total", "Total number of deletes seen by this member.", stats.Deletes);
            Counter(sb, prefix + "txn_total", "Total number of txns seen by this member.", stats.Txns);
        }
        Gauge(sb, "etcd_debugging_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes.", kv.DbSizeBytes);
        Gauge(sb, "etcd_debugging_mvcc_total_put_size_in_bytes", "The total size of put kv pairs seen by this member.", stats.PutBytes);
        Gauge(sb, "etcd_debugging_mvcc_keys_total", "Total number of keys.", kv.LiveKeys);
        Gauge(sb, "etcd_debugging_mvcc_compact_revision", "The revision of the last compaction in store.", kv.LastCompaction);
        Counter(sb, "etcd_debugging_mvcc_db_compaction_keys_total", "Total number of db keys compacted.", stats.CompactedRevisions);
        var (watchers, unsynced, pending) = kv.WatcherCounts();
        Gauge(sb, "etcd_debugging_mvcc_watcher_total", "Total number of watchers.", watchers);
        Gauge(sb, "etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers.", unsynced);
        Gauge(sb, "etcd_debugging_mvcc_pending_events_total", "Total number of pending events to be sent.", pending);
        Counter(sb, "etcd_debugging_mvcc_events_total", "Total number of events sent by this member.", stats.EventsDelivered);
        Gauge(sb, "etcd_debugging_mvcc_watch_stream_total", "Total number of watch streams.", Interlocked.Read(ref _watchStreams));
        // A RocksDB read runs on an implicit snapshot; the open read views etcd counts are ours.
        Gauge(sb, "etcd_mvcc_db_open_read_transactions", "The number of currently open read transactions", kv.OpenReadViews);
        _indexCompaction.Render(sb, "etcd_debugging_mvcc_index_compaction_pause_duration_milliseconds", "Bucketed histogram of index compaction pause duration.");
        _dbCompactionPause.Render(sb, "etcd_debugging_mvcc_db_compaction_pause_duration_milliseconds", "Bucketed histogram of db compaction pause duration.");
        _dbCompactionTotal.Render(sb, "etcd_debugging_mvcc_db_compaction_total_duration_milliseconds", "Bucketed histogram of db compaction total duration.");
    }

    private static void RenderLeases(StringBuilder sb, Lease.LeaseStats leases)
    {
        Counter(sb, "etcd_debugging_lease_granted_total", "The total number of granted leases.", leases.Granted);
        Counter(sb, "etcd_debugging_lease_revoked_total", "The total number of revoked leases.", leases.Revoked);
        Counter(sb, "etcd_debugging_lease_renewed_total", "The number of renewed leases seen by the leader.", leases.Renewed);
        Counter(sb, "etcd_debugging_server_lease_expired_total", "The total number of expired leases.", leases.Expired);
        leases.Ttl.Render(sb, "etcd_debugging_lease_ttl_total", "Bucketed histogram of lease TTLs.");
    }

    private static void Gauge(StringBuilder sb, string name, string help, double value) => Metric(sb, name, help, "gauge", value);

    private static void Counter(StringBuilder sb, string name, string help, double value) => Metric(sb, name, help, "counter", value);

    private static void Metric(StringBuilder sb, string name, string help, string type, double value) =>
        sb.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n')
          .Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n')
          .Append(name).Append(' ').Append(Num(value)).Append('\n');

    private static string Num(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
