using System.Collections;
using System.Globalization;
using Ketch.Server;
using Ketch.Server.Tls;

namespace Ketch;

/// <summary>
/// etcd's command line: <c>--flag value</c>, <c>--flag=value</c> (one or two dashes), bool flags
/// alone or <c>=true/false</c>; each flag also from <c>ETCD_FLAG_NAME</c>; with
/// <c>--config-file</c> the YAML file alone decides (as etcd: flags and environment are ignored).
/// </summary>
internal static class ServerFlags
{
    public static readonly FlagSpec[] Specs =
    [
        new("name", FlagKind.Text, "default", "Human-readable name for this member."),
        new("data-dir", FlagKind.Text, "default.ketch", "Path to the data directory."),
        new("wal-dir", FlagKind.Text, "", "Path to the dedicated wal directory."),
        new("listen-client-urls", FlagKind.UrlList, "http://localhost:2379", "List of URLs to listen on for client traffic (gRPC and HTTP on the same port)."),
        new("advertise-client-urls", FlagKind.UrlList, "http://localhost:2379", "List of this member's client URLs to advertise to the public."),
        new("listen-peer-urls", FlagKind.UrlList, "http://localhost:2380", "List of URLs to listen on for peer traffic."),
        new("initial-advertise-peer-urls", FlagKind.UrlList, "http://localhost:2380", "List of this member's peer URLs to advertise to the rest of the cluster."),
        new("initial-cluster", FlagKind.Text, "", "Initial cluster configuration for bootstrapping (name=peerURL,...); default: <name>=<initial-advertise-peer-urls>."),
        new("initial-cluster-state", FlagKind.Text, "new", "Initial cluster state ('new' or 'existing')."),
        new("initial-cluster-token", FlagKind.Text, "etcd-cluster", "Initial cluster token for the etcd cluster during bootstrap."),
        new("heartbeat-interval", FlagKind.Int, "100", "Time (in milliseconds) of a heartbeat interval."),
        new("election-timeout", FlagKind.Int, "1000", "Time (in milliseconds) for an election to timeout."),
        new("snapshot-count", FlagKind.Long, "100000", "Number of committed transactions to trigger a snapshot to disk."),
        new("experimental-snapshot-catchup-entries", FlagKind.Long, "5000", "Number of entries for a slow follower to catch up after compacting the raft storage entries."),
        new("max-snapshots", FlagKind.Int, "5", "Maximum number of snapshot files to retain (0 is unlimited)."),
        new("max-wals", FlagKind.Int, "5", "Maximum number of wal files to retain (0 is unlimited)."),
        new("quota-backend-bytes", FlagKind.Long, "0", "Raise alarms when backend size exceeds the given quota (0 defaults to 2 GiB)."),
        new("max-request-bytes", FlagKind.Int, "1572864", "Maximum client request size in bytes the server will accept."),
        new("max-txn-ops", FlagKind.Int, "128", "Maximum number of operations permitted in a transaction."),
        new("auto-compaction-mode", FlagKind.Text, "periodic", "Interpret 'auto-compaction-retention' one of: periodic|revision."),
        new("auto-compaction-retention", FlagKind.Text, "0", "Auto compaction retention (0 means disable auto compaction)."),
        new("pre-vote", FlagKind.Bool, "true", "Enable to run an additional Raft election phase."),
        new("strict-reconfig-check", FlagKind.Bool, "true", "Reject reconfiguration requests that would cause quorum loss."),
        new("auth-token", FlagKind.Text, "simple", "Specify auth token specific options: 'simple', or 'jwt,pub-key=<path>,priv-key=<path>,sign-method=<RS256|RS384|RS512|PS256|PS384|PS512|ES256|ES384|ES512|HS256|HS384|HS512>[,ttl=5m]'."),
        new("auth-token-ttl", FlagKind.Int, "300", "The lifetime in seconds of a simple auth token after its last use."),
        new("bcrypt-cost", FlagKind.Int, "10", "Specify the cost / strength of the bcrypt algorithm for hashing auth passwords. Valid values are between 4 and 31."),
        new("cert-file", FlagKind.Text, "", "Path to the client server TLS cert file."),
        new("key-file", FlagKind.Text, "", "Path to the client server TLS key file."),
        new("client-cert-auth", FlagKind.Bool, "false", "Enable client cert authentication."),
        new("client-crl-file", FlagKind.Text, "", "Path to the client certificate revocation list file."),
        new("client-cert-allowed-hostname", FlagKind.Text, "", "Allowed TLS hostname for client cert authentication."),
        new("trusted-ca-file", FlagKind.Text, "", "Path to the client server TLS trusted CA cert file."),
        new("auto-tls", FlagKind.Bool, "false", "Client TLS using generated certificates."),
        new("peer-cert-file", FlagKind.Text, "", "Path to the peer server TLS cert file."),
        new("peer-key-file", FlagKind.Text, "", "Path to the peer server TLS key file."),
        new("peer-client-cert-auth", FlagKind.Bool, "false", "Enable peer client cert authentication."),
        new("peer-trusted-ca-file", FlagKind.Text, "", "Path to the peer server TLS trusted CA file."),
        new("peer-cert-allowed-cn", FlagKind.Text, "", "Required CN for client certs connecting to the peer endpoint."),
        new("peer-cert-allowed-hostname", FlagKind.Text, "", "Allowed TLS hostname for inter peer authentication."),
        new("peer-auto-tls", FlagKind.Bool, "false", "Peer TLS using self-generated certificates if --peer-key-file and --peer-cert-file are not provided."),
        new("peer-crl-file", FlagKind.Text, "", "Path to the peer certificate revocation list file."),
        new("experimental-peer-skip-client-san-verification", FlagKind.Bool, "false", "Skip verification of SAN field in client certificate for peer connections."),
        new("cipher-suites", FlagKind.Text, "", "Comma-separated list of supported TLS cipher suites between client/server and peers (empty will be auto-populated by Go)."),
        new("self-signed-cert-validity", FlagKind.Int, "1", "The validity period of the client and peer certificates generated by --auto-tls and --peer-auto-tls, unit is year."),
        new("experimental-watch-progress-notify-interval", FlagKind.Duration, "10m", "Interval of the progress notifications sent to watchers that asked for them."),
        new("experimental-initial-corrupt-check", FlagKind.Bool, "false", "Compare this member's data with its peers' before serving clients; refuse to start on a mismatch."),
        new("experimental-corrupt-check-time", FlagKind.Duration, "0s", "Interval at which the leader compares the members' data and raises the CORRUPT alarm on a mismatch (0 disables)."),
        new("listen-metrics-urls", FlagKind.UrlList, "", "List of URLs to listen on for /metrics, /health, /livez and /readyz only."),
        new("cors", FlagKind.Text, "*", "Comma-separated origins allowed to call the HTTP endpoints from a browser (CORS); empty or * allows any."),
        new("host-whitelist", FlagKind.Text, "*", "Comma-separated host names accepted in HTTP requests on plain-text client URLs (against DNS rebinding); empty or * accepts any."),
        new("grpc-keepalive-interval", FlagKind.Duration, "2h", "How long a client connection may stay idle before the server pings it (0 disables)."),
        new("grpc-keepalive-timeout", FlagKind.Duration, "20s", "How long the server waits for the answer to its ping before closing the connection (0 disables)."),
        new("grpc-keepalive-min-time", FlagKind.Duration, "5s", "Minimum interval between a client's pings.", "ketch answers every client ping and closes no connection for pinging often"),
        new("max-concurrent-streams", FlagKind.Long, "4294967295", "Maximum number of concurrent streams (calls, watches, keep-alives) on one client connection."),
        new("force-new-cluster", FlagKind.Bool, "false", "Force to create a new one-member cluster from this member's data (the others are removed; uncommitted entries are dropped)."),
        new("enable-v2", FlagKind.Bool, "false", "Not supported by ketch (the v2 API): only false is accepted."),
        new("experimental-enable-v2v3", FlagKind.Text, "", "Not supported by ketch (the v2 API): only empty is accepted."),
        new("discovery", FlagKind.Text, "", "Not supported by ketch: bootstrap with --initial-cluster."),
        new("discovery-srv", FlagKind.Text, "", "Not supported by ketch: bootstrap with --initial-cluster."),
        new("discovery-srv-name", FlagKind.Text, "", "Suffix of the DNS SRV name (with --discovery-srv, which ketch does not support).", "discovery is not supported"),
        new("discovery-fallback", FlagKind.Text, "proxy", "What to do when discovery fails (with --discovery, which ketch does not support).", "discovery is not supported"),
        new("discovery-proxy", FlagKind.Text, "", "HTTP proxy for the discovery service (with --discovery, which ketch does not support).", "discovery is not supported"),
        new("proxy", FlagKind.Text, "off", "Not supported by ketch (etcd's v2 proxy): only 'off' is accepted."),
        new("proxy-failure-wait", FlagKind.Int, "5000", "Proxy setting (with --proxy, which ketch does not support).", "the v2 proxy is not supported"),
        new("proxy-refresh-interval", FlagKind.Int, "30000", "Proxy setting (with --proxy, which ketch does not support).", "the v2 proxy is not supported"),
        new("proxy-dial-timeout", FlagKind.Int, "1000", "Proxy setting (with --proxy, which ketch does not support).", "the v2 proxy is not supported"),
        new("proxy-write-timeout", FlagKind.Int, "5000", "Proxy setting (with --proxy, which ketch does not support).", "the v2 proxy is not supported"),
        new("proxy-read-timeout", FlagKind.Int, "0", "Proxy setting (with --proxy, which ketch does not support).", "the v2 proxy is not supported"),
        new("backend-batch-interval", FlagKind.Duration, "", "Longest time before the backend commits its write batch (empty: 100ms)."),
        new("backend-batch-limit", FlagKind.Int, "0", "Most operations in the backend's write batch before it commits (0: 10000)."),
        new("experimental-backend-bbolt-freelist-type", FlagKind.Text, "array", "bbolt's freelist type ('array' or 'map').", "the MVCC backend is RocksDB"),
        new("experimental-compaction-batch-limit", FlagKind.Int, "1000", "Revisions deleted per compaction batch.", "ketch's compaction does not take this setting"),
        new("experimental-enable-lease-checkpoint", FlagKind.Bool, "false", "Accepted; ketch always checkpoints the remaining TTL of leases (etcd's behaviour with true)."),
        new("experimental-warning-apply-duration", FlagKind.Duration, "100ms", "Log a warning for requests that take longer to apply.", "ketch does not log slow applies"),
        new("initial-election-tick-advance", FlagKind.Bool, "true", "Fast-forward the election ticks at boot once peers are connected, for a faster first election."),
        new("metrics", FlagKind.Text, "basic", "Set level of detail for exported metrics, specify 'extensive' to include the gRPC handling-time histograms."),
        new("enable-pprof", FlagKind.Bool, "false", "Serve Go's runtime profiles.", "ketch is not a Go program: use dotnet-counters and dotnet-trace"),
        new("log-package-levels", FlagKind.Text, "", "Log level per etcd package.", "ketch has one log level, --log-level"),
        new("debug", FlagKind.Bool, "false", "Enable debug-level logging (deprecated in etcd: use --log-level=debug)."),
        new("log-level", FlagKind.Text, "info", "Configures log level: debug, info, warn, error, panic, or fatal."),
        new("logger", FlagKind.Text, "zap", "Accepted for compatibility ('zap')."),
        new("log-outputs", FlagKind.Text, "default", "Accepted for compatibility (logs go to stderr)."),
        // etcd 3.5's additions (its --help, release-3.5).
        new("listen-client-http-urls", FlagKind.UrlList, "", "List of URLs to listen on for HTTP-only client traffic (gateway, /health, /metrics, /version); when set, --listen-client-urls serve gRPC only."),
        new("enable-grpc-gateway", FlagKind.Bool, "true", "Serve the JSON gateway (/v3/...) on the client URLs."),
        new("experimental-max-learners", FlagKind.Int, "1", "The maximum number of learner members in the cluster."),
        new("tls-min-version", FlagKind.Text, "TLS1.2", "Minimum TLS version on client and peer connections: TLS1.2 or TLS1.3."),
        new("tls-max-version", FlagKind.Text, "", "Maximum TLS version on client and peer connections: TLS1.2 or TLS1.3 (empty: the highest)."),
        new("peer-client-cert-file", FlagKind.Text, "", "Path to the certificate this member shows when it connects to its peers (default: --peer-cert-file)."),
        new("peer-client-key-file", FlagKind.Text, "", "Path to the key of --peer-client-cert-file."),
        new("client-cert-file", FlagKind.Text, "", "Path to the certificate this member shows when it connects to another member's client URL (lease keep-alives go to the leader's; default: --cert-file)."),
        new("client-key-file", FlagKind.Text, "", "Path to the key of --client-cert-file."),
        new("backend-bbolt-freelist-type", FlagKind.Text, "map", "bbolt's freelist type ('array' or 'map').", "the MVCC backend is RocksDB"),
        new("experimental-memory-mlock", FlagKind.Bool, "false", "Lock bbolt's pages in memory.", "the MVCC backend is RocksDB"),
        new("experimental-txn-mode-write-with-shared-buffer", FlagKind.Bool, "true", "bbolt's shared read buffer in write transactions.", "the MVCC backend is RocksDB"),
        new("experimental-bootstrap-defrag-threshold-megabytes", FlagKind.Int, "0", "Defragment at start when that much space would be freed.", "the MVCC backend is RocksDB, which compacts its files in the background"),
        new("experimental-stop-grpc-service-on-defrag", FlagKind.Bool, "false", "Report the gRPC health service NOT_SERVING during defragmentation.", "ketch serves no gRPC health service; requests keep being served during a defragmentation"),
        new("experimental-compaction-sleep-interval", FlagKind.Duration, "10ms", "Sleep between compaction batches.", "ketch's compaction does not take this setting"),
        new("experimental-compact-hash-check-enabled", FlagKind.Bool, "false", "Leader compares the members' hashes at each compaction.", "ketch's corruption checks are --experimental-initial-corrupt-check and --experimental-corrupt-check-time"),
        new("experimental-compact-hash-check-time", FlagKind.Duration, "1m", "Interval of the compaction hash check.", "ketch's corruption checks are --experimental-initial-corrupt-check and --experimental-corrupt-check-time"),
        new("experimental-enable-lease-checkpoint-persist", FlagKind.Bool, "false", "Accepted; ketch always persists checkpointed lease TTLs (etcd 3.6's behaviour)."),
        new("experimental-downgrade-check-time", FlagKind.Duration, "5s", "Interval of the downgrade status check.", "ketch does not serve cluster downgrades"),
        new("experimental-warning-unary-request-duration", FlagKind.Duration, "300ms", "Log a warning for unary requests that take longer.", "ketch does not log slow requests"),
        new("experimental-wait-cluster-ready-timeout", FlagKind.Duration, "5s", "How long to wait for the cluster to be ready before serving clients.", "ketch serves clients at once; requests that need a quorum wait for it"),
        new("experimental-enable-distributed-tracing", FlagKind.Bool, "false", "Export OpenTelemetry traces.", "ketch exports no traces"),
        new("experimental-distributed-tracing-address", FlagKind.Text, "localhost:4317", "Tracing collector address.", "ketch exports no traces"),
        new("experimental-distributed-tracing-service-name", FlagKind.Text, "etcd", "Tracing service name.", "ketch exports no traces"),
        new("experimental-distributed-tracing-instance-id", FlagKind.Text, "", "Tracing instance id.", "ketch exports no traces"),
        new("experimental-distributed-tracing-sampling-rate", FlagKind.Int, "0", "Samples per million spans.", "ketch exports no traces"),
        new("socket-reuse-port", FlagKind.Bool, "false", "Set SO_REUSEPORT on listeners.", "ketch's listeners do not take this setting"),
        new("socket-reuse-address", FlagKind.Bool, "false", "Set SO_REUSEADDR on listeners.", "ketch's listeners do not take this setting"),
        new("raft-read-timeout", FlagKind.Duration, "5s", "Read timeout of peer connections.", "ketch's peer connections time out by --election-timeout (dial: 1 s + election timeout; setup: at least 5 s)"),
        new("raft-write-timeout", FlagKind.Duration, "5s", "Write timeout of peer connections.", "ketch's peer connections time out by --election-timeout (dial: 1 s + election timeout; setup: at least 5 s)"),
        new("unsafe-no-fsync", FlagKind.Bool, "false", "Disable fsync (unsafe).", "ketch always syncs its WAL and backend"),
        new("enable-log-rotation", FlagKind.Bool, "false", "Rotate a log file output.", "ketch logs to stderr"),
        new("log-rotation-config-json", FlagKind.Text, "{\"maxsize\": 100, \"maxage\": 0, \"maxbackups\": 0, \"localtime\": false, \"compress\": false}", "Log rotation settings.", "ketch logs to stderr"),
        new("v2-deprecation", FlagKind.Text, "not-yet", "Phase of the v2 store's deprecation: not-yet, write-only, write-only-drop-data or gone (ketch has no v2 store: 'gone' in effect)."),
        new("config-file", FlagKind.Text, "", "Path to the server configuration file (YAML)."),
        new("version", FlagKind.Bool, "false", "Print the version and exit."),
        new("help", FlagKind.Bool, "false", "Show this help and exit."),
    ];

    private static readonly Dictionary<string, FlagSpec> s_byName = Specs.ToDictionary(s => s.Name, StringComparer.Ordinal);

    /// <summary>Parses flags, environment and config file into raw values (name → text).</summary>
    /// <exception cref="ArgumentException">An unknown flag, a missing value, or a bad value.</exception>
    public static Dictionary<string, string> ParseRaw(string[] args, IDictionary environment)
    {
        var values = Specs.ToDictionary(s => s.Name, s => s.Default, StringComparer.Ordinal);
        var fromEnv = new HashSet<string>(StringComparer.Ordinal);
        foreach (var spec in Specs)
        {
            if (environment[spec.EnvironmentVariable] is string v)
            {
                values[spec.Name] = v;
                fromEnv.Add(spec.Name);
            }
        }
        var fromFlags = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
            {
                throw new ArgumentException($"'{arg}' is not a valid flag");
            }
            var body = arg.TrimStart('-');
            string? value = null;
            var eq = body.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = body[(eq + 1)..];
                body = body[..eq];
            }
            if (body is "h")
            {
                body = "help";
            }
            if (!s_byName.TryGetValue(body, out var spec))
            {
                throw new ArgumentException($"flag provided but not defined: -{body}");
            }
            if (value is null)
            {
                if (spec.Kind == FlagKind.Bool)
                {
                    value = "true";
                }
                else if (i + 1 < args.Length)
                {
                    value = args[++i];
                }
                else
                {
                    throw new ArgumentException($"flag needs an argument: -{body}");
                }
            }
            fromFlags[spec.Name] = value;
        }
        foreach (var (k, v) in fromFlags)
        {
            values[k] = v;
        }
        if (values["config-file"] is { Length: > 0 } path)
        {
            // etcd: with a config file, the other flags and the environment are ignored.
            var fileValues = ConfigFile.Load(path);
            values = Specs.ToDictionary(s => s.Name, s => s.Default, StringComparer.Ordinal);
            foreach (var (k, v) in fileValues)
            {
                // As etcd (YAML into a struct): keys we do not know (TLS sections, v2 options...) are ignored.
                if (s_byName.TryGetValue(k, out var spec))
                {
                    // etcd reads its YAML into Go structs, where a duration is an integer of nanoseconds.
                    values[k] = spec.Kind == FlagKind.Duration && long.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var ns) && ns != 0
                        ? ns + "ns"
                        : v;
                }
            }
            values["config-file"] = path;
            values["version"] = fromFlags.GetValueOrDefault("version", "false");
            values["help"] = fromFlags.GetValueOrDefault("help", "false");
        }
        foreach (var spec in Specs)
        {
            Validate(spec, values[spec.Name]);
        }
        return values;
    }

    /// <summary>Builds the server options from parsed values.</summary>
    public static KetchServerOptions ToOptions(Dictionary<string, string> v)
    {
        var heartbeat = Int(v, "heartbeat-interval");
        var election = Int(v, "election-timeout");
        if (heartbeat <= 0)
        {
            throw new ArgumentException("--heartbeat-interval must be greater than 0");
        }
        if (election < 5 * heartbeat)
        {
            throw new ArgumentException($"--election-timeout[{election}ms] should be at least as 5 times as --heartbeat-interval[{heartbeat}ms]");
        }
        if (v["initial-cluster-state"] is not ("new" or "existing"))
        {
            throw new ArgumentException($"invalid value \"{v["initial-cluster-state"]}\" for flag -initial-cluster-state: valid values are \"new\", \"existing\"");
        }
        if (v["auto-compaction-mode"] is not ("periodic" or "revision"))
        {
            throw new ArgumentException($"unknown auto-compaction-mode \"{v["auto-compaction-mode"]}\"");
        }
        try
        {
            if (v["auto-compaction-mode"] == "revision")
            {
                _ = long.Parse(v["auto-compaction-retention"], CultureInfo.InvariantCulture);
            }
            else
            {
                _ = Ketch.Server.Member.AutoCompactor.ParseDuration(v["auto-compaction-retention"]);
            }
        }
        catch (FormatException)
        {
            throw new ArgumentException($"invalid auto-compaction-retention \"{v["auto-compaction-retention"]}\"");
        }
        if ((bool.Parse(v["auto-tls"]) || bool.Parse(v["peer-auto-tls"])) && Int(v, "self-signed-cert-validity") == 0)
        {
            throw new ArgumentException("--self-signed-cert-validity must be greater than 0");
        }
        var cipherSuites = CommaList(v["cipher-suites"]);
        // As etcd (embed updateCipherSuites, run whatever the URLs): an unknown name stops the start.
        _ = CipherSuites.Parse(cipherSuites);
        if (v["log-level"] is not ("debug" or "info" or "warn" or "error" or "panic" or "fatal"))
        {
            throw new ArgumentException($"unknown log level \"{v["log-level"]}\"");
        }
        Unsupported(v, "enable-v2", "false", "--enable-v2: the v2 API is not served by ketch");
        Unsupported(v, "experimental-enable-v2v3", "", "--experimental-enable-v2v3: the v2 API is not served by ketch");
        Unsupported(v, "discovery", "", "--discovery is not supported: bootstrap with --initial-cluster");
        Unsupported(v, "discovery-srv", "", "--discovery-srv is not supported: bootstrap with --initial-cluster");
        Unsupported(v, "proxy", "off", "--proxy: etcd's v2 proxy is not supported by ketch");
        if (v["discovery-fallback"] is not ("exit" or "proxy"))
        {
            throw new ArgumentException($"invalid value \"{v["discovery-fallback"]}\" for flag -discovery-fallback: valid values are \"exit\", \"proxy\"");
        }
        if (v["experimental-backend-bbolt-freelist-type"] is not ("array" or "map"))
        {
            throw new ArgumentException($"invalid value \"{v["experimental-backend-bbolt-freelist-type"]}\" for flag -experimental-backend-bbolt-freelist-type: valid values are \"array\", \"map\"");
        }
        if (v["backend-bbolt-freelist-type"] is not ("array" or "map"))
        {
            throw new ArgumentException($"invalid value \"{v["backend-bbolt-freelist-type"]}\" for flag -backend-bbolt-freelist-type: valid values are \"array\", \"map\"");
        }
        if (v["v2-deprecation"] is not ("not-yet" or "write-only" or "write-only-drop-data" or "gone"))
        {
            throw new ArgumentException($"invalid value \"{v["v2-deprecation"]}\" for flag -v2-deprecation: valid values are \"not-yet\", \"write-only\", \"write-only-drop-data\", \"gone\"");
        }
        var (tlsMin, tlsMax) = (TlsVersion(v, "tls-min-version"), TlsVersion(v, "tls-max-version"));
        if (tlsMax.Length > 0 && string.CompareOrdinal(tlsMin, tlsMax) > 0)
        {
            throw new ArgumentException($"--tls-min-version {tlsMin} is above --tls-max-version {tlsMax}");
        }
        if (cipherSuites.Length > 0 && tlsMin == "TLS1.3")
        {
            throw new ArgumentException("--cipher-suites cannot be set when only TLS1.3 is allowed (--tls-min-version=TLS1.3): TLS 1.3's suites are not configurable");
        }
        if (v["metrics"] is not ("basic" or "extensive"))
        {
            throw new ArgumentException($"unknown metrics level \"{v["metrics"]}\" (expected basic or extensive)");
        }
        var progressInterval = Duration(v, "experimental-watch-progress-notify-interval");
        if (progressInterval <= TimeSpan.Zero)
        {
            throw new ArgumentException("--experimental-watch-progress-notify-interval must be greater than 0");
        }
        return new KetchServerOptions
        {
            Name = v["name"],
            DataDir = v["data-dir"],
            WalDir = v["wal-dir"],
            ListenClientUrls = Urls(v["listen-client-urls"]),
            AdvertiseClientUrls = Urls(v["advertise-client-urls"]),
            ListenPeerUrls = Urls(v["listen-peer-urls"]),
            InitialAdvertisePeerUrls = Urls(v["initial-advertise-peer-urls"]),
            InitialCluster = v["initial-cluster"],
            InitialClusterState = v["initial-cluster-state"],
            InitialClusterToken = v["initial-cluster-token"],
            HeartbeatIntervalMs = heartbeat,
            ElectionTimeoutMs = election,
            SnapshotCount = Long(v, "snapshot-count"),
            SnapshotCatchUpEntries = Long(v, "experimental-snapshot-catchup-entries"),
            MaxSnapshots = Int(v, "max-snapshots"),
            MaxWals = Int(v, "max-wals"),
            QuotaBackendBytes = Long(v, "quota-backend-bytes"),
            MaxRequestBytes = Int(v, "max-request-bytes"),
            MaxTxnOps = Int(v, "max-txn-ops"),
            AutoCompactionMode = v["auto-compaction-mode"],
            AutoCompactionRetention = v["auto-compaction-retention"],
            PreVote = bool.Parse(v["pre-vote"]),
            InitialElectionTickAdvance = bool.Parse(v["initial-election-tick-advance"]),
            ListenClientHttpUrls = Urls(v["listen-client-http-urls"]),
            EnableGrpcGateway = bool.Parse(v["enable-grpc-gateway"]),
            MaxLearners = Int(v, "experimental-max-learners"),
            ClientTls = new TlsInfo
            {
                MinVersion = tlsMin,
                MaxVersion = tlsMax,
                ClientCertFile = v["client-cert-file"],
                ClientKeyFile = v["client-key-file"],
                CertFile = v["cert-file"],
                KeyFile = v["key-file"],
                ClientCertAuth = bool.Parse(v["client-cert-auth"]),
                TrustedCaFile = v["trusted-ca-file"],
                AutoTls = bool.Parse(v["auto-tls"]),
                CrlFile = v["client-crl-file"],
                AllowedHostname = v["client-cert-allowed-hostname"],
                CipherSuites = cipherSuites,
            },
            PeerTls = new TlsInfo
            {
                MinVersion = tlsMin,
                MaxVersion = tlsMax,
                ClientCertFile = v["peer-client-cert-file"],
                ClientKeyFile = v["peer-client-key-file"],
                CertFile = v["peer-cert-file"],
                KeyFile = v["peer-key-file"],
                ClientCertAuth = bool.Parse(v["peer-client-cert-auth"]),
                TrustedCaFile = v["peer-trusted-ca-file"],
                AutoTls = bool.Parse(v["peer-auto-tls"]),
                CrlFile = v["peer-crl-file"],
                AllowedCn = v["peer-cert-allowed-cn"],
                AllowedHostname = v["peer-cert-allowed-hostname"],
                SkipClientSanVerify = bool.Parse(v["experimental-peer-skip-client-san-verification"]),
                CipherSuites = cipherSuites,
            },
            SelfSignedCertValidityYears = Int(v, "self-signed-cert-validity"),
            StrictReconfigCheck = bool.Parse(v["strict-reconfig-check"]),
            AuthToken = AuthToken(v),
            AuthTokenTtlSeconds = Int(v, "auth-token-ttl"),
            BcryptCost = Int(v, "bcrypt-cost"),
            WatchProgressNotifyInterval = progressInterval,
            ForceNewCluster = bool.Parse(v["force-new-cluster"]),
            ExtensiveMetrics = v["metrics"] == "extensive",
            BackendBatchInterval = v["backend-batch-interval"].Length == 0 ? TimeSpan.FromMilliseconds(100) : Duration(v, "backend-batch-interval"),
            BackendBatchLimit = Int(v, "backend-batch-limit") is > 0 and var limit ? limit : 10_000,
            InitialCorruptCheck = bool.Parse(v["experimental-initial-corrupt-check"]),
            CorruptCheckInterval = Duration(v, "experimental-corrupt-check-time"),
            ListenMetricsUrls = Urls(v["listen-metrics-urls"]),
            CorsOrigins = CommaList(v["cors"]),
            HostWhitelist = CommaList(v["host-whitelist"]),
            GrpcKeepAliveInterval = Duration(v, "grpc-keepalive-interval"),
            GrpcKeepAliveTimeout = Duration(v, "grpc-keepalive-timeout"),
            MaxConcurrentStreams = (int)Math.Min(int.MaxValue, Long(v, "max-concurrent-streams")),
        };
    }

    /// <summary>The log level: <c>--log-level</c>, or debug with etcd 3.4's <c>--debug</c>.</summary>
    public static string LogLevel(Dictionary<string, string> v) => bool.Parse(v["debug"]) ? "debug" : v["log-level"];

    /// <summary>The flags set to other than their default that change nothing in ketch, each with
    /// the reason, for the member to log at start.</summary>
    public static IEnumerable<string> WithoutEffect(Dictionary<string, string> v) =>
        Specs.Where(s => s.NoEffect is not null && v[s.Name] != s.Default)
            .Select(s => $"--{s.Name}={v[s.Name]} has no effect: {s.NoEffect}");

    /// <summary>Refuses a flag ketch does not support unless it has its default.</summary>
    private static void Unsupported(Dictionary<string, string> v, string name, string accepted, string message)
    {
        var value = v[name];
        var same = bool.TryParse(accepted, out var a) && bool.TryParse(value, out var b) ? a == b : value == accepted;
        if (!same)
        {
            throw new ArgumentException(message);
        }
    }

    public static string Usage()
    {
        var sb = new System.Text.StringBuilder();
        sb.Append("Usage:\n\n  ketch [flags]\n      Start a Ketch member (an etcd-compatible server).\n\n  ketch --version\n  ketch -h | --help\n\n");
        sb.Append("Every flag can also be set as ETCD_<FLAG> (upper case, '-' as '_').\n\nFlags:\n");
        foreach (var s in Specs)
        {
            sb.Append("  --").Append(s.Name);
            if (s.Kind != FlagKind.Bool)
            {
                sb.Append(" '").Append(s.Default).Append('\'');
            }
            sb.Append("\n      ").Append(s.Help).Append('\n');
        }
        return sb.ToString();
    }

    private static void Validate(FlagSpec spec, string value)
    {
        var ok = spec.Kind switch
        {
            FlagKind.Int => int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var i) && i >= 0,
            FlagKind.Long => long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var l) && l >= 0,
            FlagKind.Bool => bool.TryParse(value, out _),
            FlagKind.Duration => (value.Length == 0 && spec.Default.Length == 0) || GoDuration.Parse(value) is not null,
            FlagKind.UrlList => value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .All(u => Uri.TryCreate(u, UriKind.Absolute, out var x) && x.Scheme is "http" or "https" or "unix"),
            _ => true,
        };
        if (!ok)
        {
            throw new ArgumentException($"invalid value \"{value}\" for flag -{spec.Name}");
        }
    }

    /// <summary>--auth-token, checked now (keys read and matched) so that a bad value stops the
    /// start with a clear message.</summary>
    private static string AuthToken(Dictionary<string, string> v)
    {
        var spec = v["auth-token"];
        if (Ketch.Server.Auth.AuthTokenSpec.Create(spec, TimeSpan.FromSeconds(Int(v, "auth-token-ttl")), TimeProvider.System) is IDisposable keys)
        {
            keys.Dispose();
        }
        return spec;
    }

    /// <summary>A TLS version flag: "TLS1.2", "TLS1.3" or empty, as etcd 3.5 takes them.</summary>
    private static string TlsVersion(Dictionary<string, string> v, string name) =>
        v[name] is "" or "TLS1.2" or "TLS1.3"
            ? v[name]
            : throw new ArgumentException($"invalid value \"{v[name]}\" for flag -{name}: valid values are \"TLS1.2\", \"TLS1.3\"");

    /// <summary>A duration flag's value (checked by <see cref="Validate"/>).</summary>
    private static TimeSpan Duration(Dictionary<string, string> v, string name) =>
        GoDuration.Parse(v[name]) ?? throw new ArgumentException($"invalid value \"{v[name]}\" for flag -{name}");

    private static int Int(Dictionary<string, string> v, string name) => int.Parse(v[name], CultureInfo.InvariantCulture);

    private static long Long(Dictionary<string, string> v, string name) => long.Parse(v[name], CultureInfo.InvariantCulture);

    private static string[] Urls(string text) => CommaList(text);

    private static string[] CommaList(string text) => text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
