using Xunit;

namespace Ketch.Bench.Tests;

public class ArgParserTests
{
    private static BenchOptions Parse(params string[] args)
    {
        Assert.True(ArgParser.TryParse(args, out var options, out var error), error);
        return options!;
    }

    private static string Error(params string[] args)
    {
        Assert.False(ArgParser.TryParse(args, out var options, out var error));
        Assert.Null(options);
        return error!;
    }

    [Fact]
    public void Defaults()
    {
        var o = Parse("put", "--endpoints", "127.0.0.1:23790");
        Assert.Equal("put", o.Workload);
        Assert.Equal([new Uri("http://127.0.0.1:23790")], o.Endpoints);
        Assert.Equal(1, o.Conns);
        Assert.Equal(1, o.Clients);
        Assert.Equal(10_000, o.Total);
        Assert.Null(o.Duration);
        Assert.Equal(0, o.RateOpsPerSecond);
        Assert.Equal(Consistency.Linearizable, o.Consistency);
        Assert.True(o.Progress);
        Assert.False(o.Json);
    }

    [Fact]
    public void Tls_options_as_etcds_benchmark()
    {
        Assert.Null(Parse("put", "--endpoints", "h:1").Tls);
        // With a TLS option a bare host:port means https (clientv3); explicit schemes stay.
        var o = Parse("put", "--endpoints", "h:1,http://h:2,https://h:3", "--cacert", "/ca.pem", "--cert=/c.pem", "--key", "/k.pem");
        Assert.Equal([new Uri("https://h:1"), new Uri("http://h:2"), new Uri("https://h:3")], o.Endpoints);
        Assert.Equal(("/ca.pem", "/c.pem", "/k.pem", false), (o.Tls!.TrustedCaFile, o.Tls.CertFile, o.Tls.KeyFile, o.Tls.InsecureSkipVerify));
        var skip = Parse("range", "--endpoints", "https://h:3", "--insecure-skip-tls-verify");
        Assert.True(skip.Tls!.InsecureSkipVerify);
        Assert.Null(skip.Tls.TrustedCaFile);
        Assert.Equal([new Uri("https://h:3")], Parse("put", "--endpoints", "https://h:3").Endpoints);
    }

    [Fact]
    public void Options_with_spaces_equals_signs_and_flags()
    {
        var o = Parse("range", "--endpoints=http://127.0.0.11:3000,127.0.0.12:3000", "--conns", "100", "--clients=1000",
            "--duration", "1.5s", "--warmup", "250ms", "--consistency", "s", "--prefix", "--key", "k/", "--json", "--no-progress", "--rate", "250.5");
        Assert.Equal(2, o.Endpoints.Count);
        Assert.Equal("127.0.0.12", o.Endpoints[1].Host);
        Assert.Equal(100, o.Conns);
        Assert.Equal(1000, o.Clients);
        Assert.Null(o.Total);
        Assert.Equal(TimeSpan.FromSeconds(1.5), o.Duration);
        Assert.Equal(TimeSpan.FromMilliseconds(250), o.Warmup);
        Assert.Equal(Consistency.Serializable, o.Consistency);
        Assert.True(o.Prefix);
        Assert.Equal("k/", o.Key);
        Assert.True(o.Json);
        Assert.False(o.Progress);
        Assert.Equal(250.5, o.RateOpsPerSecond);
        Assert.Empty(o.CpuPids);
        Assert.Equal([12, 34], Parse("put", "--endpoints", "h:1", "--cpu-pids", "12,34").CpuPids);
    }

    [Fact]
    public void Workload_specific_options()
    {
        var put = Parse("put", "--endpoints", "h:1", "--key-size", "16", "--val-size", "256", "--key-space", "1_000_000", "--sequential-keys");
        Assert.Equal((16, 256, 1_000_000L, true), (put.KeySizeBytes, put.ValueSizeBytes, put.KeySpace, put.SequentialKeys));
        Assert.Equal(0.5, Parse("txn-mixed", "--endpoints", "h:1", "--read-ratio", "0.5").ReadRatio);
        Assert.Equal(4, Parse("txn-put", "--endpoints", "h:1", "--txn-ops", "4", "--key-space", "10").TxnOps);
        var watch = Parse("watch-latency", "--endpoints", "h:1", "--watchers", "1000", "--streams", "100", "--conns", "10");
        Assert.Equal((1000, 100, 100.0), (watch.Watchers, watch.Streams, watch.RateOpsPerSecond));
        var probe = Parse("fsync-probe", "--path", "/tmp", "--duration", "500ms");
        Assert.Equal(("/tmp", 128, TimeSpan.FromMilliseconds(500)), (probe.ProbePath, probe.ProbeBlockBytes, probe.Duration));
    }

    [Theory]
    [InlineData("missing workload", new string[0])]
    [InlineData("unknown workload 'get'", new[] { "get" })]
    [InlineData("unknown option --bogus", new[] { "put", "--endpoints", "h:1", "--bogus", "1" })]
    [InlineData("unexpected argument 'extra'", new[] { "put", "--endpoints", "h:1", "extra" })]
    [InlineData("option --clients needs a value", new[] { "put", "--endpoints", "h:1", "--clients" })]
    [InlineData("--clients wants an integer, not 'many'", new[] { "put", "--endpoints", "h:1", "--clients", "many" })]
    [InlineData("--clients must be between 1 and", new[] { "put", "--endpoints", "h:1", "--clients", "0" })]
    [InlineData("--endpoints is required", new[] { "put" })]
    [InlineData("bad endpoint 'ftp://h:1'", new[] { "put", "--endpoints", "ftp://h:1" })]
    [InlineData("--consistency must be l or s", new[] { "range", "--endpoints", "h:1", "--consistency", "x" })]
    [InlineData("--duration wants a duration", new[] { "put", "--endpoints", "h:1", "--duration", "soon" })]
    [InlineData("--duration must be positive", new[] { "put", "--endpoints", "h:1", "--duration", "0s" })]
    [InlineData("--conns (10) must not exceed the --clients (5)", new[] { "put", "--endpoints", "h:1", "--conns", "10", "--clients", "5" })]
    [InlineData("--read-ratio must be between 0 and 1", new[] { "txn-mixed", "--endpoints", "h:1", "--read-ratio", "1.5" })]
    [InlineData("does not fit in --key-size 2", new[] { "put", "--endpoints", "h:1", "--key-size", "2", "--key-space", "1000" })]
    [InlineData("--txn-ops (4) needs a --key-space", new[] { "txn-put", "--endpoints", "h:1", "--txn-ops", "4" })]
    [InlineData("--streams (20) must not exceed --watchers (10)", new[] { "watch", "--endpoints", "h:1", "--watchers", "10", "--streams", "20" })]
    [InlineData("--json and --tsv exclude each other", new[] { "put", "--endpoints", "h:1", "--json", "--tsv" })]
    [InlineData("--cpu-pids wants process ids like 123,456, not 'x'", new[] { "put", "--endpoints", "h:1", "--cpu-pids", "1,x" })]
    [InlineData("option --json takes no value", new[] { "put", "--endpoints", "h:1", "--json=yes" })]
    public void Mistakes_come_back_as_errors(string expected, string[] args) =>
        Assert.Contains(expected, Error(args), StringComparison.Ordinal);

    [Theory]
    [InlineData("250ms", 0.25)]
    [InlineData("10s", 10)]
    [InlineData("2m", 120)]
    [InlineData("1h", 3600)]
    [InlineData("3", 3)]
    public void Durations(string text, double seconds)
    {
        Assert.True(ArgParser.TryParseDuration(text, out var value));
        Assert.Equal(TimeSpan.FromSeconds(seconds), value);
    }

    [Fact]
    public void Key_numbers_are_zero_padded_decimal()
    {
        Assert.Equal("00000042"u8.ToArray(), KeyMaker.KeyBytes(8, 42));
        Assert.Equal("345"u8.ToArray(), KeyMaker.KeyBytes(3, 12345));
    }
}
