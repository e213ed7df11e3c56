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
}
