using System.Collections;

namespace Ketch.Server.Tests;

public sealed class FlagsTests
{
    private static KetchServerOptions Parse(string[] args, IDictionary? env = null) =>
        ServerFlags.ToOptions(ServerFlags.ParseRaw(args, env ?? new Hashtable()));

    [Fact]
    public void Defaults_are_etcds_with_our_data_dir()
    {
        var o = Parse([]);
        Assert.Equal("default", o.Name);
        Assert.Equal("default.ketch", o.DataDir);
        Assert.Equal(["http://localhost:2379"], o.ListenClientUrls);
        Assert.Equal(["http://localhost:2380"], o.InitialAdvertisePeerUrls);
        Assert.Equal(100, o.HeartbeatIntervalMs);
        Assert.Equal(1000, o.ElectionTimeoutMs);
        Assert.Equal(1536 * 1024, o.MaxRequestBytes);
        Assert.Equal(128, o.MaxTxnOps);
        Assert.Equal("new", o.InitialClusterState);
    }

    [Fact]
    public void Both_flag_forms_env_and_bools()
    {
        var o = Parse(["--name", "n1", "--data-dir=/tmp/x", "-heartbeat-interval", "50", "--election-timeout=600", "--pre-vote=false",
            "--listen-client-urls", "http://127.0.0.1:1,http://127.0.0.1:2"], new Hashtable { ["ETCD_MAX_TXN_OPS"] = "7", ["ETCD_NAME"] = "ignored" });
        Assert.Equal("n1", o.Name);
        Assert.Equal("/tmp/x", o.DataDir);
        Assert.Equal(50, o.HeartbeatIntervalMs);
        Assert.Equal(600, o.ElectionTimeoutMs);
        Assert.False(o.PreVote);
        Assert.True(o.InitialElectionTickAdvance);
        Assert.False(Parse(["--initial-election-tick-advance=false"]).InitialElectionTickAdvance);
        Assert.Equal(7, o.MaxTxnOps);
        Assert.Equal(2, o.ListenClientUrls.Count);
    }

    [Theory]
    [InlineData("--no-such-flag", "flag provided but not defined: -no-such-flag")]
    [InlineData("--heartbeat-interval=abc", "invalid value \"abc\" for flag -heartbeat-interval")]
    [InlineData("--name", "flag needs an argument: -name")]
    [InlineData("stray", "'stray' is not a valid flag")]
    public void Bad_flags_are_explained(string arg, string message)
    {
        var e = Assert.Throws<ArgumentException>(() => Parse([arg]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Bcrypt_cost_from_flag_env_and_config_file()
    {
        Assert.Equal(10, Parse([]).BcryptCost);
        Assert.Equal(4, Parse(["--bcrypt-cost", "4"]).BcryptCost);
        Assert.Equal(12, Parse([], new Hashtable { ["ETCD_BCRYPT_COST"] = "12" }).BcryptCost);
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "ketch.yml");
        File.WriteAllText(path, "bcrypt-cost: 6\n");
        Assert.Equal(6, Parse(["--config-file", path]).BcryptCost);
        // As etcd 3.4: a number outside 4..31 is not a flag error; the member warns and uses 10
        // (PasswordHashTests checks that part).
        Assert.Equal(3, Parse(["--bcrypt-cost=3"]).BcryptCost);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("-1")]
    [InlineData("4.5")]
    [InlineData("99999999999")]
    public void Bcrypt_cost_that_is_not_a_count_is_refused(string value)
    {
        var message = $"invalid value \"{value}\" for flag -bcrypt-cost";
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Parse(["--bcrypt-cost", value])).Message);
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Parse([], new Hashtable { ["ETCD_BCRYPT_COST"] = value })).Message);
    }

    [Fact]
    public void Election_timeout_must_be_five_heartbeats_and_state_valid()
    {
        Assert.Throws<ArgumentException>(() => Parse(["--heartbeat-interval=100", "--election-timeout=300"]));
        Assert.Throws<ArgumentException>(() => Parse(["--initial-cluster-state=maybe"]));
    }

    [Fact]
    public void Config_file_yaml_wins()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "ketch.yml");
        File.WriteAllText(path, "name: infra1\ndata-dir: /var/x\nheartbeat-interval: 200\nelection-timeout: 2000\nlisten-client-urls: http://127.0.0.1:5000\n");
        var o = Parse(["--config-file", path, "--name", "flag-loses"]);
        Assert.Equal("infra1", o.Name);
        Assert.Equal("/var/x", o.DataDir);
        Assert.Equal(200, o.HeartbeatIntervalMs);
        Assert.Equal(["http://127.0.0.1:5000"], o.ListenClientUrls);
    }

    /// <summary>Every flag etcd 3.4's <c>--help</c> lists (Debian's etcd-server 3.4.23), each given a
    /// value other than its default: a unit file or manifest written for etcd starts ketch, or is
    /// refused with a reason, never with "flag provided but not defined".</summary>
    [Theory]
    [InlineData("--backend-batch-interval=10ms")]
    [InlineData("--backend-batch-limit=100")]
    [InlineData("--cors=http://a.example")]
    [InlineData("--debug")]
    [InlineData("--discovery-fallback=exit")]
    [InlineData("--discovery-proxy=http://proxy.example")]
    [InlineData("--discovery-srv-name=x")]
    [InlineData("--enable-pprof")]
    [InlineData("--enable-v2=false")]
    [InlineData("--experimental-backend-bbolt-freelist-type=map")]
    [InlineData("--experimental-compaction-batch-limit=500")]
    [InlineData("--experimental-corrupt-check-time=5m")]
    [InlineData("--experimental-enable-lease-checkpoint")]
    [InlineData("--experimental-enable-v2v3=")]
    [InlineData("--experimental-initial-corrupt-check=true")]
    [InlineData("--experimental-warning-apply-duration=200ms")]
    [InlineData("--experimental-watch-progress-notify-interval=5s")]
    [InlineData("--grpc-keepalive-interval=1h")]
    [InlineData("--grpc-keepalive-min-time=10s")]
    [InlineData("--grpc-keepalive-timeout=10s")]
    [InlineData("--host-whitelist=localhost")]
    [InlineData("--initial-election-tick-advance=false")]
    [InlineData("--listen-metrics-urls=http://127.0.0.1:2381")]
    [InlineData("--log-package-levels=etcdserver=DEBUG")]
    [InlineData("--max-concurrent-streams=1000")]
    [InlineData("--metrics=extensive")]
    [InlineData("--proxy=off")]
    [InlineData("--proxy-dial-timeout=2000")]
    [InlineData("--proxy-failure-wait=1000")]
    [InlineData("--proxy-read-timeout=10")]
    [InlineData("--proxy-refresh-interval=1000")]
    [InlineData("--proxy-write-timeout=1000")]
    public void Every_etcd_34_flag_is_accepted(string flag) => Parse([flag]);

    /// <summary>Every flag etcd 3.5 adds to 3.4's (its <c>--help</c> on the release-3.5 branch), each
    /// given a value other than its default: a unit file written for etcd 3.5 starts ketch too.</summary>
    [Theory]
    [InlineData("--listen-client-http-urls=http://127.0.0.1:2382")]
    [InlineData("--enable-grpc-gateway=false")]
    [InlineData("--experimental-max-learners=3")]
    [InlineData("--tls-min-version=TLS1.3")]
    [InlineData("--tls-max-version=TLS1.2")]
    [InlineData("--client-cert-file=/pki/client.crt", "--client-key-file=/pki/client.key")]
    [InlineData("--peer-client-cert-file=/pki/peer-client.crt", "--peer-client-key-file=/pki/peer-client.key")]
    [InlineData("--backend-bbolt-freelist-type=array")]
    [InlineData("--experimental-memory-mlock")]
    [InlineData("--experimental-txn-mode-write-with-shared-buffer=false")]
    [InlineData("--experimental-bootstrap-defrag-threshold-megabytes=100")]
    [InlineData("--experimental-stop-grpc-service-on-defrag")]
    [InlineData("--experimental-compaction-sleep-interval=1ms")]
    [InlineData("--experimental-compact-hash-check-enabled")]
    [InlineData("--experimental-compact-hash-check-time=2m")]
    [InlineData("--experimental-enable-lease-checkpoint-persist")]
    [InlineData("--experimental-downgrade-check-time=10s")]
    [InlineData("--experimental-warning-unary-request-duration=1s")]
    [InlineData("--experimental-wait-cluster-ready-timeout=10s")]
    [InlineData("--experimental-enable-distributed-tracing")]
    [InlineData("--experimental-distributed-tracing-address=127.0.0.1:4318")]
    [InlineData("--experimental-distributed-tracing-service-name=e")]
    [InlineData("--experimental-distributed-tracing-instance-id=i")]
    [InlineData("--experimental-distributed-tracing-sampling-rate=100")]
    [InlineData("--socket-reuse-port")]
    [InlineData("--socket-reuse-address")]
    [InlineData("--raft-read-timeout=7s")]
    [InlineData("--raft-write-timeout=7s")]
    [InlineData("--unsafe-no-fsync")]
    [InlineData("--enable-log-rotation")]
    [InlineData("--log-rotation-config-json={\"maxsize\": 10}")]
    [InlineData("--v2-deprecation=gone")]
    public void Every_etcd_35_flag_is_accepted(params string[] flags) => Parse(flags);

    [Fact]
    public void Etcd_35_flags_that_ketch_serves_reach_the_options()
    {
        var d = Parse([]);
        Assert.Equal((true, 1, 0), (d.EnableGrpcGateway, d.MaxLearners, d.ListenClientHttpUrls.Count));
        Assert.Equal(("TLS1.2", ""), (d.ClientTls.MinVersion, d.ClientTls.MaxVersion));
        var o = Parse(["--enable-grpc-gateway=false", "--experimental-max-learners=2", "--listen-client-http-urls=http://127.0.0.1:2382,http://10.0.0.5:2382",
            "--tls-min-version=TLS1.3", "--peer-client-cert-file=pc.crt", "--peer-client-key-file=pc.key", "--client-cert-file=c.crt", "--client-key-file=c.key"]);
        Assert.Equal((false, 2), (o.EnableGrpcGateway, o.MaxLearners));
        Assert.Equal(["http://127.0.0.1:2382", "http://10.0.0.5:2382"], o.ListenClientHttpUrls);
        Assert.Equal(("TLS1.3", "TLS1.3"), (o.ClientTls.MinVersion, o.PeerTls.MinVersion));
        Assert.Equal(("pc.crt", "pc.key"), (o.PeerTls.ClientCertFile, o.PeerTls.ClientKeyFile));
        Assert.Equal(("c.crt", "c.key"), (o.ClientTls.ClientCertFile, o.ClientTls.ClientKeyFile));
        Assert.Equal(
            ["--unsafe-no-fsync=true has no effect: ketch always syncs its WAL and backend"],
            ServerFlags.WithoutEffect(ServerFlags.ParseRaw(["--unsafe-no-fsync", "--v2-deprecation=gone", "--experimental-enable-lease-checkpoint-persist"], new Hashtable())));
    }

    [Fact]
    public void A_kubeadm_etcd_manifest_starts_ketch()
    {
        // The command line kubeadm writes into its etcd static pod (TLS paths shortened).
        var o = Parse([
            "--advertise-client-urls=https://10.0.0.5:2379", "--cert-file=/pki/server.crt", "--client-cert-auth=true",
            "--data-dir=/var/lib/etcd", "--experimental-initial-corrupt-check=true", "--experimental-watch-progress-notify-interval=5s",
            "--initial-advertise-peer-urls=https://10.0.0.5:2380", "--initial-cluster=cp1=https://10.0.0.5:2380", "--key-file=/pki/server.key",
            "--listen-client-urls=https://127.0.0.1:2379,https://10.0.0.5:2379", "--listen-metrics-urls=http://127.0.0.1:2381",
            "--listen-peer-urls=https://10.0.0.5:2380", "--name=cp1", "--peer-cert-file=/pki/peer.crt", "--peer-client-cert-auth=true",
            "--peer-key-file=/pki/peer.key", "--peer-trusted-ca-file=/pki/ca.crt", "--snapshot-count=10000", "--trusted-ca-file=/pki/ca.crt",
        ]);
        Assert.True(o.InitialCorruptCheck);
        Assert.Equal(TimeSpan.FromSeconds(5), o.WatchProgressNotifyInterval);
        Assert.Equal(["http://127.0.0.1:2381"], o.ListenMetricsUrls);
        Assert.Equal(10000, o.SnapshotCount);
    }

    [Fact]
    public void Implemented_flags_reach_the_options_with_etcds_defaults()
    {
        var d = Parse([]);
        Assert.Equal(TimeSpan.FromMinutes(10), d.WatchProgressNotifyInterval);
        Assert.False(d.InitialCorruptCheck);
        Assert.Equal(TimeSpan.Zero, d.CorruptCheckInterval);
        Assert.Empty(d.ListenMetricsUrls);
        Assert.Equal(["*"], d.CorsOrigins);
        Assert.Equal(["*"], d.HostWhitelist);
        Assert.Equal(TimeSpan.FromHours(2), d.GrpcKeepAliveInterval);
        Assert.Equal(TimeSpan.FromSeconds(20), d.GrpcKeepAliveTimeout);
        Assert.Equal(int.MaxValue, d.MaxConcurrentStreams);
        Assert.False(d.ForceNewCluster);
        Assert.True(Parse(["--force-new-cluster"]).ForceNewCluster);
        Assert.False(d.ExtensiveMetrics);
        Assert.True(Parse(["--metrics=extensive"]).ExtensiveMetrics);
        Assert.Equal((TimeSpan.FromMilliseconds(100), 10_000), (d.BackendBatchInterval, d.BackendBatchLimit));
        var batch = Parse(["--backend-batch-interval=10ms", "--backend-batch-limit=500"]);
        Assert.Equal((TimeSpan.FromMilliseconds(10), 500), (batch.BackendBatchInterval, batch.BackendBatchLimit));
        Assert.Equal("info", ServerFlags.LogLevel(ServerFlags.ParseRaw([], new Hashtable())));
        Assert.Equal("debug", ServerFlags.LogLevel(ServerFlags.ParseRaw(["--debug"], new Hashtable())));

        var o = Parse(["--experimental-corrupt-check-time=1m30s", "--cors=http://a.example,http://b.example", "--host-whitelist", "localhost,10.0.0.5",
            "--grpc-keepalive-interval=0", "--grpc-keepalive-timeout=1.5s", "--max-concurrent-streams=64", "--experimental-watch-progress-notify-interval=250ms"]);
        Assert.Equal(TimeSpan.FromSeconds(90), o.CorruptCheckInterval);
        Assert.Equal(["http://a.example", "http://b.example"], o.CorsOrigins);
        Assert.Equal(["localhost", "10.0.0.5"], o.HostWhitelist);
        Assert.Equal(TimeSpan.Zero, o.GrpcKeepAliveInterval);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), o.GrpcKeepAliveTimeout);
        Assert.Equal(64, o.MaxConcurrentStreams);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.WatchProgressNotifyInterval);
    }

    [Theory]
    [InlineData("--enable-v2=true", "--enable-v2: the v2 API is not served by ketch")]
    [InlineData("--experimental-enable-v2v3=/v2", "--experimental-enable-v2v3: the v2 API is not served by ketch")]
    [InlineData("--discovery=https://discovery.etcd.io/abc", "--discovery is not supported: bootstrap with --initial-cluster")]
    [InlineData("--discovery-srv=example.com", "--discovery-srv is not supported: bootstrap with --initial-cluster")]
    [InlineData("--proxy=on", "--proxy: etcd's v2 proxy is not supported by ketch")]
    [InlineData("--grpc-keepalive-timeout=20", "invalid value \"20\" for flag -grpc-keepalive-timeout")]
    [InlineData("--experimental-corrupt-check-time=5 minutes", "invalid value \"5 minutes\" for flag -experimental-corrupt-check-time")]
    [InlineData("--experimental-watch-progress-notify-interval=0", "--experimental-watch-progress-notify-interval must be greater than 0")]
    [InlineData("--metrics=all", "unknown metrics level \"all\" (expected basic or extensive)")]
    [InlineData("--experimental-backend-bbolt-freelist-type=list", "invalid value \"list\" for flag -experimental-backend-bbolt-freelist-type: valid values are \"array\", \"map\"")]
    [InlineData("--tls-min-version=TLS1.1", "invalid value \"TLS1.1\" for flag -tls-min-version: valid values are \"TLS1.2\", \"TLS1.3\"")]
    [InlineData("--v2-deprecation=later", "invalid value \"later\" for flag -v2-deprecation: valid values are \"not-yet\", \"write-only\", \"write-only-drop-data\", \"gone\"")]
    [InlineData("--backend-bbolt-freelist-type=list", "invalid value \"list\" for flag -backend-bbolt-freelist-type: valid values are \"array\", \"map\"")]
    public void Unsupported_or_bad_values_are_refused_with_the_reason(string flag, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Parse([flag])).Message);

    [Theory]
    [InlineData("--tls-min-version=TLS1.3 --tls-max-version=TLS1.2", "--tls-min-version TLS1.3 is above --tls-max-version TLS1.2")]
    [InlineData("--tls-min-version=TLS1.3 --cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
        "--cipher-suites cannot be set when only TLS1.3 is allowed (--tls-min-version=TLS1.3): TLS 1.3's suites are not configurable")]
    public void Tls_versions_that_do_not_fit_together_are_refused(string flags, string message) =>
        Assert.Equal(message, Assert.Throws<ArgumentException>(() => Parse(flags.Split(' '))).Message);

    [Fact]
    public void Flags_without_effect_are_reported_only_when_changed()
    {
        Assert.Empty(ServerFlags.WithoutEffect(ServerFlags.ParseRaw([], new Hashtable())));
        Assert.Equal(
            ["--experimental-compaction-batch-limit=5 has no effect: ketch's compaction does not take this setting"],
            ServerFlags.WithoutEffect(ServerFlags.ParseRaw(["--metrics=extensive", "--experimental-compaction-batch-limit=5", "--backend-batch-limit=5", "--experimental-initial-corrupt-check"], new Hashtable())));
    }

    [Fact]
    public void Config_file_transport_sections_take_etcd_35s_client_certificate_keys()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "ketch.yml");
        File.WriteAllText(path, "tls-min-version: TLS1.3\npeer-transport-security:\n  client-cert-file: /pki/pc.crt\n  client-key-file: /pki/pc.key\n" +
            "client-transport-security:\n  client-cert-file: /pki/c.crt\n  client-key-file: /pki/c.key\n");
        var o = Parse(["--config-file", path]);
        Assert.Equal(("/pki/pc.crt", "/pki/pc.key"), (o.PeerTls.ClientCertFile, o.PeerTls.ClientKeyFile));
        Assert.Equal(("/pki/c.crt", "/pki/c.key"), (o.ClientTls.ClientCertFile, o.ClientTls.ClientKeyFile));
        Assert.Equal("TLS1.3", o.PeerTls.MinVersion);
    }

    [Fact]
    public void Config_file_durations_are_nanoseconds_as_etcds_yaml()
    {
        using var dir = new TempDir();
        var path = Path.Combine(dir.Path, "ketch.yml");
        File.WriteAllText(path, "experimental-watch-progress-notify-interval: 5000000000\nexperimental-corrupt-check-time: 0\ngrpc-keepalive-timeout: 3s\nlisten-metrics-urls: http://127.0.0.1:2381\n");
        var o = Parse(["--config-file", path]);
        Assert.Equal(TimeSpan.FromSeconds(5), o.WatchProgressNotifyInterval);
        Assert.Equal(TimeSpan.Zero, o.CorruptCheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(3), o.GrpcKeepAliveTimeout);
        Assert.Equal(["http://127.0.0.1:2381"], o.ListenMetricsUrls);
    }
}
