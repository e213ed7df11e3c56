using Google.Protobuf;
using Ketch.Client;
using Ketch.Testing;
using Xunit;

namespace Ketch.Ctl.Tests;

/// <summary><c>make-mirror</c>: etcdctl and ketchctl mirror the same source prefix side by side into one destination
/// (under the destination prefixes <c>e/</c> and <c>k/</c>), on ketch, on etcd, and from ketch to etcd. Keys
/// written before the mirror starts are copied, keys put and deleted (one Txn among them) while it runs follow,
/// keys outside the prefix stay behind, and both destinations end up equal. ketchctl's running count (every 30 s,
/// run here on a clock 300 times faster) ends at the number of keys synced; interrupted, it exits cleanly.</summary>
public sealed class MakeMirrorTests
{
    /// <summary>A clock whose timers run <c>factor</c> times faster: make-mirror's 30 s count comes every 100 ms.</summary>
    private sealed class FastClock(int factor) : TimeProvider
    {
        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            base.CreateTimer(callback, state, Scale(dueTime), Scale(period));

        private TimeSpan Scale(TimeSpan t) => t <= TimeSpan.Zero ? t : t / factor;
    }

    private static IClusterProvider Provider(string kind) => kind == "etcd" ? EtcdClusterProvider.Instance : KetchClusterProvider.Instance;

    [Theory]
    [InlineData("ketch", "ketch")]
    [InlineData("etcd", "etcd")]
    [InlineData("ketch", "etcd")]
    public async Task Mirrors_existing_and_new_keys_puts_and_deletes_like_etcdctl(string sourceKind, string destKind)
    {
        Tools.Require("etcdctl", "etcd-client");
        await using var sourceCluster = await Provider(sourceKind).StartAsync(1);
        await using var destCluster = await Provider(destKind).StartAsync(1);
        var (src, dst) = (sourceCluster.Endpoints[0], destCluster.Endpoints[0]);
        using var source = Connect(src);
        using var dest = Connect(dst);

        // Usage errors, as etcdctl's.
        foreach (string[] bad in (string[][])[["make-mirror"], ["make-mirror", dst, dst], ["make-mirror", "--dest-prefix", "x/", "--no-dest-prefix", dst]])
        {
            var a = await Clis.EtcdctlAsync(["--endpoints=" + src, .. bad]);
            var b = await Clis.KetchctlAsync(["--endpoints=" + src, .. bad]);
            Assert.Equal((a.ExitCode, a.Errors), (b.ExitCode, b.Errors));
            Assert.Equal(("", 128), (b.Stdout, b.ExitCode));
        }

        // Before: two keys to copy, one deleted (never copied), one outside the prefix.
        await source.Kv.PutAsync("p/a", "1");
        await source.Kv.PutAsync("p/b", "2");
        await source.Kv.PutAsync("p/c", "3");
        await source.Kv.DeleteAsync("p/c");
        await source.Kv.PutAsync("other/x", "x");

        await using var etcdctl = LiveRun.Etcdctl(src, ["make-mirror", "--prefix", "p/", "--dest-prefix", "e/", dst]);
        await using var ketchctl = LiveRun.Ketchctl(src, ["make-mirror", "--prefix", "p/", "--dest-prefix", "k/", dst], clock: new FastClock(300));
        await WaitForAsync(dest, new() { ["e/a"] = "1", ["e/b"] = "2", ["k/a"] = "1", ["k/b"] = "2" }, etcdctl, ketchctl);

        // While mirroring: a put, an overwrite, a delete, a Txn of two puts, a key outside the prefix.
        await source.Kv.PutAsync("p/d", "4");
        await source.Kv.PutAsync("p/a", "10");
        await source.Kv.DeleteAsync("p/b");
        await source.Kv.Txn().Then(Op.Put("p/t1", "x"), Op.Put("p/t2", "y")).CommitAsync();
        await source.Kv.PutAsync("other/y", "y");
        var expected = new Dictionary<string, string> { ["a"] = "10", ["d"] = "4", ["t1"] = "x", ["t2"] = "y" };
        await WaitForAsync(dest, new(expected.SelectMany(kv => new[] { KeyValuePair.Create("e/" + kv.Key, kv.Value), KeyValuePair.Create("k/" + kv.Key, kv.Value) })),
            etcdctl, ketchctl);

        // 2 keys copied + 5 events (put, put, delete, two puts) = 7, as etcdctl counts them.
        await ketchctl.WaitForAsync((o, _) => o.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() == "7", "the count of 7 synced keys");
        var rc = await ketchctl.StopAsync();
        Assert.Equal("", ketchctl.Stderr);
        Assert.Equal(5, rc);
        var counts = ketchctl.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(long.Parse).ToList();
        Assert.Equal(counts.Order(), counts);
        Assert.Equal(7, counts[^1]);
        Assert.Equal("", etcdctl.Errors());
    }

    [Fact]
    public async Task Mirrors_the_whole_keyspace_and_to_the_root_without_a_dest_prefix()
    {
        await using var sourceCluster = await KetchClusterProvider.Instance.StartAsync(1);
        await using var destCluster = await KetchClusterProvider.Instance.StartAsync(1);
        var (src, dst) = (sourceCluster.Endpoints[0], destCluster.Endpoints[0]);
        using var source = Connect(src);
        using var dest = Connect(dst);
        // Binary keys too (keys are bytes, not text). Pages of 1,000: 1,205 keys make two.
        await source.Kv.PutAsync(ByteString.CopyFrom(0x01, 0xff), ByteString.CopyFromUtf8("bin"));
        for (var i = 0; i < 1200; i += 100)
        {
            var txn = source.Kv.Txn();
            txn.Then([.. Enumerable.Range(i, 100).Select(j => Op.Put($"n/{j:D4}", $"{j}"))]);
            await txn.CommitAsync();
        }
        await source.Kv.PutAsync("p/x", "1");

        // The whole keyspace, same keys at the destination.
        await using (var all = LiveRun.Ketchctl(src, ["make-mirror", dst]))
        {
            await WaitForCountAsync(dest, 1202, all);
            await source.Kv.PutAsync("n/late", "late");
            await WaitForCountAsync(dest, 1203, all);
            var got = await DumpAsync(dest);
            Assert.Equal("bin", got["\u0001\ufffd"]);
            Assert.Equal("1199", got["n/1199"]);
            Assert.Equal("late", got["n/late"]);
            Assert.Equal(5, await all.StopAsync());
        }

        // --no-dest-prefix: p/x arrives as x.
        await using var root = LiveRun.Ketchctl(src, ["make-mirror", "--prefix", "p/", "--no-dest-prefix", dst]);
        await WaitForAsync(dest, null, root, done: d => d.GetValueOrDefault("x") == "1");
        await source.Kv.DeleteAsync("p/x");
        await WaitForAsync(dest, null, root, done: d => !d.ContainsKey("x"));
        Assert.Equal(5, await root.StopAsync());
        Assert.Equal("", root.Stderr);
    }

    private static KetchClient Connect(string endpoint) => new(new KetchClientOptions { Endpoints = ["http://" + endpoint] });

    /// <summary>Every key of the cluster and its value (as UTF-8 text).</summary>
    private static async Task<Dictionary<string, string>> DumpAsync(KetchClient client)
    {
        var r = await client.Kv.GetAsync(KeyRange.FromKeyEnd, new GetOptions { FromKey = true });
        return r.Kvs.ToDictionary(kv => kv.Key.ToStringUtf8(), kv => kv.Value.ToStringUtf8());
    }

    /// <summary>Waits until the destination holds exactly <paramref name="want"/> (or <paramref name="done"/> holds);
    /// fails after 30 s, or at once if a mirror has exited.</summary>
    private static async Task WaitForAsync(KetchClient dest, Dictionary<string, string>? want, LiveRun a, LiveRun? b = null,
        Func<Dictionary<string, string>, bool>? done = null)
    {
        done ??= d => d.Count == want!.Count && want.All(kv => d.GetValueOrDefault(kv.Key) == kv.Value);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        Dictionary<string, string> got;
        while (!done(got = await DumpAsync(dest)))
        {
            var state = $"destination: {string.Join(", ", got.Select(kv => kv.Key + "=" + kv.Value))}\n" +
                $"--- stderr\n{a.Stderr}\n{b?.Stderr}";
            Assert.True(DateTime.UtcNow < deadline, "timed out; " + state);
            await Task.Delay(50);
        }
    }

    private static Task WaitForCountAsync(KetchClient dest, int count, LiveRun run) => WaitForAsync(dest, null, run, null, d => d.Count == count);
}

/// <summary>A live run's stderr without etcdctl's zap log lines.</summary>
internal static class LiveRunErrors
{
    public static string Errors(this LiveRun run) => new Run("", run.Stderr, 0).Errors;
}
