using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Ketch.Server;

/// <summary>
/// Configuration of one member, named after etcd's flags (<c>--name</c>, <c>--data-dir</c>, ...)
/// with etcd's defaults, except the data directory (<c>./default.ketch</c>).
/// </summary>
public sealed record KetchServerOptions
{
    /// <summary>Human-readable name of this member (<c>--name</c>).</summary>
    public string Name { get; init; } = "default";

    /// <summary>Where the WAL, snapshots and the MVCC database live (<c>--data-dir</c>).</summary>
    public string DataDir { get; init; } = "default.ketch";

    /// <summary>A separate directory for the WAL (<c>--wal-dir</c>); empty: inside the data dir.</summary>
    public string WalDir { get; init; } = "";

    /// <summary>URLs to serve clients on, gRPC and HTTP on the same port (<c>--listen-client-urls</c>).</summary>
    public IReadOnlyList<string> ListenClientUrls { get; init; } = ["http://localhost:2379"];

    /// <summary>Client URLs advertised to the cluster (<c>--advertise-client-urls</c>).</summary>
    public IReadOnlyList<string> AdvertiseClientUrls { get; init; } = ["http://localhost:2379"];

    /// <summary>URLs to listen on for peer traffic (<c>--listen-peer-urls</c>).</summary>
    public IReadOnlyList<string> ListenPeerUrls { get; init; } = ["http://localhost:2380"];

    /// <summary>This member's peer URLs as others reach them (<c>--initial-advertise-peer-urls</c>).</summary>
    public IReadOnlyList<string> InitialAdvertisePeerUrls { get; init; } = ["http://localhost:2380"];

    /// <summary><c>name=peerURL,...</c> of the initial members (<c>--initial-cluster</c>); empty:
    /// this member alone, named <see cref="Name"/>.</summary>
    public string InitialCluster { get; init; } = "";

    /// <summary><c>new</c> or <c>existing</c> (<c>--initial-cluster-state</c>).</summary>
    public string InitialClusterState { get; init; } = "new";

    /// <summary>Token making ids unique per cluster (<c>--initial-cluster-token</c>).</summary>
    public string InitialClusterToken { get; init; } = "etcd-cluster";

    /// <summary>Milliseconds between heartbeats: one Raft tick (<c>--heartbeat-interval</c>).</summary>
    public int HeartbeatIntervalMs { get; init; } = 100;

    /// <summary>Milliseconds before a follower campaigns (<c>--election-timeout</c>).</summary>
    public int ElectionTimeoutMs { get; init; } = 1000;

    /// <summary>Applied entries between snapshots (<c>--snapshot-count</c>).</summary>
    public long SnapshotCount { get; init; } = 100_000;

    /// <summary>
    /// Entries kept in the log before each snapshot's index (<c>--experimental-snapshot-catchup-entries</c>,
    /// etcd's default 5,000): a follower that lags by less catches up from the log; compacting right
    /// at the snapshot would send every lagging follower the whole store.
    /// </summary>
    public long SnapshotCatchUpEntries { get; init; } = 5_000;

    /// <summary>Snapshot files kept (<c>--max-snapshots</c>).</summary>
    public int MaxSnapshots { get; init; } = 5;

    /// <summary>Old WAL segments kept (<c>--max-wals</c>).</summary>
    public int MaxWals { get; init; } = 5;

    /// <summary>Backend size that raises the NOSPACE alarm (<c>--quota-backend-bytes</c>; 0: 2 GiB).</summary>
    public long QuotaBackendBytes { get; init; }

    /// <summary>Largest client request accepted (<c>--max-request-bytes</c>, 1.5 MiB).</summary>
    public int MaxRequestBytes { get; init; } = 1536 * 1024;

    /// <summary>Most operations in one transaction (<c>--max-txn-ops</c>).</summary>
    public int MaxTxnOps { get; init; } = 128;

    /// <summary><c>periodic</c> or <c>revision</c> (<c>--auto-compaction-mode</c>).</summary>
    public string AutoCompactionMode { get; init; } = "periodic";

    /// <summary>Retention for auto compaction: a duration (<c>1h</c>, or hours as a number) in
    /// periodic mode, a revision count in revision mode; <c>0</c> turns it off.</summary>
    public string AutoCompactionRetention { get; init; } = "0";

    /// <summary>Run Raft's pre-vote round before elections (<c>--pre-vote</c>).</summary>
    public bool PreVote { get; init; } = true;

    /// <summary>At boot, once the peers are connected and no leader has been heard, fast-forward the
    /// election timer to two ticks before its end (<c>--initial-election-tick-advance</c>, see
    /// <c>RaftLoop.AdvanceElectionTicks</c>).</summary>
    public bool InitialElectionTickAdvance { get; init; } = true;

    /// <summary>Refuse reconfigurations that could lose quorum (<c>--strict-reconfig-check</c>).</summary>
    public bool StrictReconfigCheck { get; init; } = true;

    /// <summary>With <see cref="StrictReconfigCheck"/>: how long a peer must have been connected
    /// to count as active for a membership change (etcd's <c>HealthInterval</c>, 5 s; not a flag in
    /// etcd either). Tests that change membership right after a member joins lower it.</summary>
    public TimeSpan ReconfigHealthInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Auth tokens (<c>--auth-token</c>): <c>simple</c>, or
    /// <c>jwt,pub-key=&lt;path&gt;,priv-key=&lt;path&gt;,sign-method=&lt;RS256|ES256|...&gt;[,ttl=5m]</c>.</summary>
    public string AuthToken { get; init; } = "simple";

    /// <summary>Seconds a simple token lives after its last use (<c>--auth-token-ttl</c>).</summary>
    public int AuthTokenTtlSeconds { get; init; } = 300;

    /// <summary>The bcrypt cost of password hashes (<c>--bcrypt-cost</c>), 4 to 31. As etcd, a value
    /// outside that range is replaced by the default 10 with a warning in the log.</summary>
    public int BcryptCost { get; init; } = Auth.PasswordHash.DefaultCost;

    /// <summary>TLS for the <c>https://</c> client URLs (<c>--cert-file</c>, <c>--key-file</c>,
    /// <c>--trusted-ca-file</c>, <c>--client-cert-auth</c>, <c>--auto-tls</c>).</summary>
    public Tls.TlsInfo ClientTls { get; init; } = new();

    /// <summary>TLS between members on <c>https://</c> peer URLs (<c>--peer-cert-file</c>,
    /// <c>--peer-key-file</c>, <c>--peer-trusted-ca-file</c>, <c>--peer-client-cert-auth</c>,
    /// <c>--peer-auto-tls</c>).</summary>
    public Tls.TlsInfo PeerTls { get; init; } = new();

    /// <summary>Years a certificate generated by auto TLS is valid (<c>--self-signed-cert-validity</c>).</summary>
    public int SelfSignedCertValidityYears { get; init; } = 1;

    /// <summary>How long a client request may wait for Raft before "request timed out"; zero:
    /// etcd's 5 s plus two election timeouts.</summary>
    public TimeSpan RequestTimeout { get; init; }

    /// <summary>Interval of the progress notifications for watchers that asked for them.</summary>
    public TimeSpan WatchProgressNotifyInterval { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>Longest time before the MVCC backend commits its write batch (etcd's
    /// <c>--backend-batch-interval</c>, 100 ms).</summary>
    public TimeSpan BackendBatchInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>Most operations in the MVCC backend's write batch before it commits (etcd's
    /// <c>--backend-batch-limit</c>, 10,000).</summary>
    public int BackendBatchLimit { get; init; } = 10_000;

    /// <summary>The MVCC store's settings for <paramref name="directory"/> under these options.</summary>
    internal Ketch.Mvcc.KvStoreOptions KvStoreOptions(string directory) => new()
    {
        Directory = directory,
        TimeProvider = TimeProvider,
        BatchInterval = BackendBatchInterval,
        BatchLimit = BackendBatchLimit,
    };

    /// <summary>etcd's <c>--metrics=extensive</c>: also the gRPC handling-time histograms.</summary>
    public bool ExtensiveMetrics { get; init; }

    /// <summary>Restart this member's data as a one-member cluster (etcd's <c>--force-new-cluster</c>,
    /// see <see cref="Member.ForceNewCluster"/>); ignored without existing data.</summary>
    public bool ForceNewCluster { get; init; }

    /// <summary>Whether a member compares its data with its peers' before it serves clients
    /// (etcd's <c>--experimental-initial-corrupt-check</c>).</summary>
    public bool InitialCorruptCheck { get; init; }

    /// <summary>Interval of the leader's comparison of the members' data; zero disables it
    /// (etcd's <c>--experimental-corrupt-check-time</c>).</summary>
    public TimeSpan CorruptCheckInterval { get; init; }

    /// <summary>URLs serving only <c>/metrics</c> and <c>/health</c> (etcd's <c>--listen-metrics-urls</c>);
    /// https ones use the client TLS settings.</summary>
    public IReadOnlyList<string> ListenMetricsUrls { get; init; } = [];

    /// <summary>Origins allowed by CORS on the client port's HTTP endpoints; empty or <c>*</c> allows any.</summary>
    public IReadOnlyList<string> CorsOrigins { get; init; } = ["*"];

    /// <summary>Host names accepted in HTTP requests on plain-text client URLs; empty or <c>*</c> accepts any.</summary>
    public IReadOnlyList<string> HostWhitelist { get; init; } = ["*"];

    /// <summary>Idle time after which the server pings a client connection; zero disables the pings.</summary>
    public TimeSpan GrpcKeepAliveInterval { get; init; } = TimeSpan.FromHours(2);

    /// <summary>How long the server waits for a ping's answer before closing the connection; zero disables.</summary>
    public TimeSpan GrpcKeepAliveTimeout { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>Concurrent streams allowed on one client connection (etcd's default is unlimited:
    /// clients multiplex every watch and keep-alive on one connection).</summary>
    public int MaxConcurrentStreams { get; init; } = int.MaxValue;

    /// <summary>Interval at which the leader checkpoints the remaining TTL of leases.</summary>
    public TimeSpan LeaseCheckpointInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How often auto compaction checks; zero: etcd's (a tenth of the retention in
    /// periodic mode, 5 minutes in revision mode).</summary>
    public TimeSpan AutoCompactionCheckInterval { get; init; }

    /// <summary>URLs that serve HTTP only (gateway, /health, /metrics, /version), etcd 3.5's
    /// <c>--listen-client-http-urls</c>; when any is given, <see cref="ListenClientUrls"/> serve gRPC only.</summary>
    public IReadOnlyList<string> ListenClientHttpUrls { get; init; } = [];

    /// <summary>Serve the JSON gateway (<c>/v3/...</c>), etcd's <c>--enable-grpc-gateway</c>.</summary>
    public bool EnableGrpcGateway { get; init; } = true;

    /// <summary>Most learners the cluster may have at once (etcd's <c>--experimental-max-learners</c>).</summary>
    public int MaxLearners { get; init; } = 1;

    /// <summary>The clock.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Where log lines go.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;

    internal long EffectiveQuotaBytes => QuotaBackendBytes > 0 ? QuotaBackendBytes : 2L * 1024 * 1024 * 1024;

    internal TimeSpan EffectiveRequestTimeout =>
        RequestTimeout > TimeSpan.Zero ? RequestTimeout : TimeSpan.FromMilliseconds(5000 + (2 * ElectionTimeoutMs));

    /// <summary>How long a TCP connect to a peer may take: one second plus an election timeout, as
    /// etcd's peer dial timeout.</summary>
    internal TimeSpan PeerDialTimeout => TimeSpan.FromMilliseconds(1000 + ElectionTimeoutMs);

    /// <summary>How long the rest of a peer connection's setup (TLS, with the listener's DNS checks of
    /// the peer's name, our handshake and its answer) may take before it is dropped and dialled
    /// again: the dial timeout, but at least 5 s. A peer that accepts TCP but never answers (a hung
    /// process, a middlebox that black-holes the stream) would otherwise hold the connection for
    /// good; a slow TLS handshake or DNS answer must still get through.</summary>
    internal TimeSpan PeerSetupTimeout => PeerDialTimeout > TimeSpan.FromSeconds(5) ? PeerDialTimeout : TimeSpan.FromSeconds(5);

    /// <summary>How often each peer's round trip is measured (<see cref="Peer.PeerProbe"/>); tests shorten it.</summary>
    internal TimeSpan PeerProbeInterval { get; init; } = Peer.PeerProbe.Interval;

    /// <summary>The shortest and longest wait before a peer stream is dialled again after a failure
    /// (doubling in between); tests lengthen them.</summary>
    internal (TimeSpan Min, TimeSpan Max) PeerRetryBackoff { get; init; } = (TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2));

    /// <summary>Tests only: runs on the loop while a snapshot from the leader replaces the store,
    /// between closing the old store and opening the new one.</summary>
    internal Action? WhileStoreClosedForTests { get; init; }

    internal int ElectionTicks => Math.Max(2, ElectionTimeoutMs / Math.Max(1, HeartbeatIntervalMs));
}
