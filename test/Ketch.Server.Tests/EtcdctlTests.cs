using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Ketch.Server.Tests;

/// <summary>
/// The real etcdctl 3.4 against ketch, and the same commands against a real etcd: outputs must be
/// equal once ids, hashes, sizes and times (which legitimately differ) are masked.
/// </summary>
public sealed partial class EtcdctlTests(CompatFixture fx) : IClassFixture<CompatFixture>
{
    /// <summary>Runs one command on both servers and compares exit code, stdout and the
    /// "Error:" lines of stderr after masking.</summary>
    private static async Task<string> Same(string ketch, string etcd, string args, string? stdin = null)
    {
        var k = await Etcdctl.RunAsync(ketch, args, stdin);
        var e = await Etcdctl.RunAsync(etcd, args, stdin);
        var kOut = Mask(k.Out);
        var eOut = Mask(e.Out);
        Assert.True(e.Exit == k.Exit, $"etcdctl {args}: exit etcd={e.Exit} ketch={k.Exit}\nketch stderr: {k.Err}\netcd stderr: {e.Err}");
        Assert.True(eOut == kOut, $"etcdctl {args}: stdout differs\n--- etcd ---\n{eOut}\n--- ketch ---\n{kOut}");
        Assert.Equal(ErrorLines(e.Err), ErrorLines(k.Err));
        return k.Out;
    }

    private static string ErrorLines(string err) =>
        string.Join("\n", err.Split('\n').Where(l => l.StartsWith("Error:", StringComparison.Ordinal)));

    /// <summary>Masks what legitimately differs. The decimal ids of JSON and fields output go
    /// first: a 14-16 digit decimal id also reads as a hex id, so masked after the hex ids it
    /// became <c>&lt;id&gt;</c> while a longer one became 0, and the same header compared unequal by
    /// chance of the ids' lengths. A zero is left as it is, so a header filled on one side only
    /// still shows.</summary>
    private static string Mask(string s)
    {
        s = JsonId().Replace(s, "\"$1\":<id>");
        s = FieldsId().Replace(s, "\"$1\" : <id>");
        s = HexId().Replace(s, "<id>");
        s = Took().Replace(s, "took = <t>");
        s = Remaining().Replace(s, "remaining(<n>s)");
        return s;
    }

    [GeneratedRegex(@"\b[0-9a-f]{14,16}\b")]
    private static partial Regex HexId();

    [GeneratedRegex("\"(cluster_id|member_id|raft_term|ID)\":[1-9]\\d*")]
    private static partial Regex JsonId();

    [GeneratedRegex("\"(ClusterID|MemberID|RaftTerm|ID)\" : [1-9]\\d*")]
    private static partial Regex FieldsId();

    [GeneratedRegex(@"took = [0-9.]+[a-zµ]+")]
    private static partial Regex Took();

    [GeneratedRegex(@"remaining\(\d+s\)")]
    private static partial Regex Remaining();

    [Fact]
    public void Mask_treats_ids_alike_whatever_their_length()
    {
        // A 15-digit and a 20-digit uint64 id: both decimal, the shorter also a hex id's length.
        Assert.Equal(Mask("{\"header\":{\"cluster_id\":123456789012345,\"member_id\":12345678901234567890,\"raft_term\":2}}"),
            Mask("{\"header\":{\"cluster_id\":14841639068965178418,\"member_id\":100000000000000,\"raft_term\":3}}"));
        Assert.Equal(Mask("\"ClusterID\" : 123456789012345\n\"MemberID\" : 12345678901234567890\n"),
            Mask("\"ClusterID\" : 14841639068965178418\n\"MemberID\" : 1000000000000000\n"));
        // A zero is not an id: a header left unfilled on one side still differs.
        Assert.NotEqual(Mask("{\"cluster_id\":0}"), Mask("{\"cluster_id\":123456789012345}"));
        Assert.Equal("lease <id> granted", Mask("lease 694d8a6ba5c2b20e granted"));
    }

    [Fact]
    public async Task Kv_script_matches_real_etcd()
    {
        // A fresh pair: both stores start empty (revision 1), so revisions line up command by command.
        await using var ketch = await TestMember.StartSingleAsync();
        await using var etcd = await EtcdProcess.StartAsync();
        var kEndpoint = ketch.ClientUrl.Replace("http://", "", StringComparison.Ordinal);
        Task<string> Same(string args, string? stdin = null) => EtcdctlTests.Same(kEndpoint, etcd.Endpoint, args, stdin);
        Assert.Equal("OK\n", await Same("put foo bar"));
        await Same("put foo2 bar2");
        await Same("put zoo z");
        await Same("put foo bar-v2");
        Assert.Equal("foo\nbar-v2\n", await Same("get foo"));
        await Same("get foo --prefix");
        await Same("get foo --from-key");
        await Same("get foo --prefix --limit 1");
        await Same("get foo --rev 2");
        await Same("get foo --prefix --sort-by=MODIFY --order=DESCEND");
        await Same("get foo --prefix --sort-by=VALUE --order=ASCEND");
        await Same("get foo --prefix --keys-only");
        // etcdctl 3.4 has no --count-only; the JSON of a limited range carries count and more.
        await Same("get foo --prefix --limit 1 -w json");
        await Same("get foo --print-value-only");
        await Same("get foo -w json");
        await Same("get foo --prefix -w fields");
        await Same("get nothing-here");
        await Same("put --prev-kv foo bar-v3");
        Assert.Equal("1\n", await Same("del foo2"));
        await Same("del --prev-kv zoo");
        await Same("txn -i", "value(\"foo\") = \"bar-v3\"\n\nput foo bar-v4\nget foo\n\nget zoo\n\n");
        await Same("txn -i", "value(\"foo\") = \"nope\"\n\nput foo never\n\nget foo\n\n");
        await Same("txn -w json", "version(\"foo\") > \"1\"\n\nget foo\n\n\n");
        await Same("compaction 3");
        await Same("get foo --rev 2");
        await Same("compaction 2");
        await Same("get foo --rev 999");
        await Same("alarm list");
        await Same("put '' empty");
    }

    [Fact]
    public async Task Lease_commands_match_real_etcd()
    {
        var k = await Etcdctl.OkAsync(fx.KetchEndpoint, "lease grant 100");
        Assert.Matches(@"^lease [0-9a-f]+ granted with TTL\(100s\)\n$", k);
        var id = k.Split(' ')[1];
        await Etcdctl.OkAsync(fx.KetchEndpoint, $"put --lease={id} lk1 v");
        Assert.Matches(@"^lease [0-9a-f]+ keepalived with TTL\(100\)\n$", await Etcdctl.OkAsync(fx.KetchEndpoint, $"lease keep-alive --once {id}"));
        Assert.Matches(@"^lease [0-9a-f]+ granted with TTL\(100s\), remaining\(\d+s\), attached keys\(\[lk1\]\)\n$",
            await Etcdctl.OkAsync(fx.KetchEndpoint, $"lease timetolive --keys {id}"));
        Assert.Contains(id, await Etcdctl.OkAsync(fx.KetchEndpoint, "lease list"), StringComparison.Ordinal);
        Assert.Matches(@"^lease [0-9a-f]+ revoked\n$", await Etcdctl.OkAsync(fx.KetchEndpoint, $"lease revoke {id}"));
        Assert.Equal("", await Etcdctl.OkAsync(fx.KetchEndpoint, "get lk1"));
        // The same sequence on etcd gives the same text once ids are masked.
        foreach (var endpoint in new[] { fx.KetchEndpoint, fx.Etcd.Endpoint })
        {
            var g = await Etcdctl.OkAsync(endpoint, "lease grant 60");
            var lid = g.Split(' ')[1];
            Assert.Equal("lease <id> already expired\n", Mask(await Etcdctl.OkAsync(endpoint, "lease timetolive 1234abcd")));
            Assert.Equal("lease <id> granted with TTL(60s), remaining(<n>s), attached keys([])\n", Mask(await Etcdctl.OkAsync(endpoint, $"lease timetolive --keys {lid}")));
            await Etcdctl.OkAsync(endpoint, $"lease revoke {lid}");
        }
        var (exit, _, err) = await Etcdctl.RunAsync(fx.KetchEndpoint, "lease revoke 1234abcd");
        Assert.NotEqual(0, exit);
        Assert.Contains("etcdserver: requested lease not found", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cluster_and_maintenance_commands()
    {
        var list = await Etcdctl.OkAsync(fx.KetchEndpoint, "member list");
        Assert.Matches(@"^[0-9a-f]+, started, m1, http://127\.0\.0\.1:\d+, http://127\.0\.0\.1:\d+, false\n$", list);
        var status = await Etcdctl.OkAsync(fx.KetchEndpoint, "endpoint status");
        Assert.Matches(@"^127\.0\.0\.1:\d+, [0-9a-f]+, 3\.5\.13, [0-9.]+ [kMG]?B, true, false, \d+, \d+, \d+, \n$", status);
        var statusJson = await Etcdctl.OkAsync(fx.KetchEndpoint, "endpoint status -w json");
        Assert.Contains("\"leader\":", statusJson, StringComparison.Ordinal);
        var health = await Etcdctl.RunAsync(fx.KetchEndpoint, "endpoint health");
        Assert.Equal(0, health.Exit);
        Assert.Matches(@"is healthy: successfully committed proposal: took = ", health.Out + health.Err);
        Assert.Matches(@"^127\.0\.0\.1:\d+, \d+\n$", await Etcdctl.OkAsync(fx.KetchEndpoint, "endpoint hashkv"));
        Assert.Equal("", await Etcdctl.OkAsync(fx.KetchEndpoint, "alarm list"));
        using var dir = new TempDir();
        var file = Path.Combine(dir.Path, "snap.db");
        var save = await Etcdctl.OkAsync(fx.KetchEndpoint, $"snapshot save {file}");
        Assert.Contains($"Snapshot saved at {file}", save, StringComparison.Ordinal);
        Assert.True(new FileInfo(file).Length > 32);
        Assert.Matches(@"^Finished defragmenting etcd member\[127\.0\.0\.1:\d+\]\n$", await Etcdctl.OkAsync(fx.KetchEndpoint, "defrag"));
    }

    [Fact]
    public async Task Watch_with_rev_prefix_and_prev_kv_as_a_child_process()
    {
        var first = await fx.Ketch.Kv.PutAsync(new Ketch.Api.Etcdserverpb.PutRequest { Key = Google.Protobuf.ByteString.CopyFromUtf8("wc/a"), Value = Google.Protobuf.ByteString.CopyFromUtf8("1") });
        await Etcdctl.OkAsync(fx.KetchEndpoint, "put wc/a 2");
        var psi = new ProcessStartInfo(Etcdctl.Path) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.Environment["ETCDCTL_API"] = "3";
        foreach (var a in new[] { "--endpoints=" + fx.KetchEndpoint, "watch", "wc/", "--prefix", "--prev-kv", "--rev", first.Header.Revision.ToString(System.Globalization.CultureInfo.InvariantCulture) })
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        try
        {
            var lines = new List<string>();
            var reader = Task.Run(async () =>
            {
                while (await p.StandardOutput.ReadLineAsync() is { } line)
                {
                    lock (lines)
                    {
                        lines.Add(line);
                    }
                }
            });
            await TestNet.WaitUntil(() => { lock (lines) { return lines.Count >= 5; } }, TimeSpan.FromSeconds(10), "the replayed events");
            await Etcdctl.OkAsync(fx.KetchEndpoint, "del wc/a");
            await TestNet.WaitUntil(() => { lock (lines) { return lines.Count >= 9; } }, TimeSpan.FromSeconds(10), "the delete event");
            lock (lines)
            {
                // PUT wc/a 1 (no prev), PUT wc/a 2 with prev 1, DELETE wc/a with prev 2.
                Assert.Equal(["PUT", "wc/a", "1", "PUT", "wc/a", "1", "wc/a", "2", "DELETE"], lines.Take(9));
            }
        }
        finally
        {
            p.Kill();
            await p.WaitForExitAsync();
        }
    }
}
